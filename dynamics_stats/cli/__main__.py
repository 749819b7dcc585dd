"""``python -m dynamics_stats.cli``."""

import sys

from dynamics_stats.cli import main

sys.exit(main())
