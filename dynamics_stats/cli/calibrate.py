"""``dynamics-stats calibrate``: refit the maps with your labels, or go back to the shipped ones."""

from __future__ import annotations

import argparse
from typing import Any

from dynamics_stats.core.errors import InputError

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the ``calibrate`` parser to the sub-command set ``commands``."""
    parser = commands.add_parser(
        "calibrate",
        help="refit the probability maps on your labelled runs (or --reset)",
        description=(
            "Refit the calibration maps on the shipped corpus plus the runs labelled with "
            "'dynamics-stats feedback', print held-out metrics before and after, and save "
            "the maps in $DYNAMICS_STATS_HOME/calibration/user.json. Analyses use them "
            'until --reset (or DYNAMICS_STATS_USER_MAPS=0, or calibration = "shipped").'
        ),
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--with-feedback", action="store_true", help="refit with your labels")
    action.add_argument("--reset", action="store_true", help="remove your refitted maps")
    parser.add_argument("--corpus", help="corpus scores CSV (default: the shipped one)")
    parser.add_argument(
        "--store", help="SQLite file (default: $DYNAMICS_STATS_HOME/feedback.sqlite)"
    )
    parser.add_argument(
        "--user-weight",
        type=float,
        default=1.0,
        help="weight of one of your runs relative to a corpus run (default: 1)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the comparison without saving the maps"
    )


def run(args: argparse.Namespace) -> int:
    """Refit or reset the user's maps; return the exit code."""
    from dynamics_stats.calibration.maps import remove_user_map, write_user_map

    if args.reset:
        removed = remove_user_map()
        print(f"removed {removed}" if removed else "no user maps to remove")
        print("Analyses now use the shipped calibration map.")
        return 0
    if not args.user_weight > 0:
        raise InputError(f"--user-weight must be > 0; got {args.user_weight}.")
    from dynamics_stats.calibration.refit import refit_with_feedback

    result = refit_with_feedback(corpus=args.corpus, store=args.store, user_weight=args.user_weight)
    print(result.summary())
    if args.dry_run:
        print("--dry-run: maps not saved.")
        return 0
    path = write_user_map(result.cmap)
    print(f"saved {path}; analyses now report calibration {result.cmap.info.name!r}.")
    return 0
