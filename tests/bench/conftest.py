import sys
from pathlib import Path

# --import-mode=importlib puts no directory on sys.path; the benchmarks are the repository's
# top-level `bench` package (`python -m bench` runs from the root).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
