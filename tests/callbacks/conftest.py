"""Make the helper modules of the callback tests (``_*.py`` here) importable.

The suite imports test modules with ``--import-mode=importlib``, which does not put their
folder on ``sys.path``; the training scripts the tests start in other processes import the
same helpers from their own folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
