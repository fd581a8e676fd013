import sys
from pathlib import Path

# --import-mode=importlib puts no test directory on sys.path; the helper modules here have
# names no other test directory uses.
sys.path.insert(0, str(Path(__file__).parent))
