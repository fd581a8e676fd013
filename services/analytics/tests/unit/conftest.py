import sys
from pathlib import Path

# --import-mode=importlib puts no test directory on sys.path; the fakes module has a name no
# other service uses (analytics_fakes, not fakes), so a whole-repo run cannot pick up another's.
sys.path.insert(0, str(Path(__file__).parent))
