"""The example is not a workspace package (nothing deploys it): its tests import it from src/."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "src"))
