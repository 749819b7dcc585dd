"""``dynamics-stats formats``: the log formats that can be read."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the ``formats`` parser to the sub-command set ``commands``."""
    commands.add_parser("formats", help="list the log formats that can be read")


def run(args: argparse.Namespace) -> int:
    """Print one line per log format; return 0."""
    from dynamics_stats.io import LOADERS

    for spec in LOADERS.values():
        extra = f'  (pip install "dynamics_stats[{spec.extra}]")' if spec.extra else ""
        print(f"{spec.format:<18} {spec.description}{extra}")
    return 0
