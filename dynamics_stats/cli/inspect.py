"""``dynamics-stats inspect``: format, metrics, roles and repairs of a run."""

from __future__ import annotations

import argparse
import json
from typing import Any

from dynamics_stats.cli._common import add_source_arguments, parse_roles

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the ``inspect`` parser to the sub-command set ``commands``."""
    parser = commands.add_parser("inspect", help="show format, metrics, roles and repairs")
    add_source_arguments(parser, format_flags=("--format", "--log-format"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    """Load and validate the run, print what was found; return 0."""
    from dynamics_stats.core.config import ValidationConfig
    from dynamics_stats.io import LoadOptions, load_run
    from dynamics_stats.report.inspect import render_inspection
    from dynamics_stats.validate import validate_run

    config = ValidationConfig(roles=parse_roles(args.role))  # type: ignore[arg-type]
    options = LoadOptions(tracking_uri=args.tracking_uri, regex=args.regex)
    artifacts = validate_run(load_run(args.path, format=args.log_format, options=options), config)
    if args.json:
        print(json.dumps(artifacts.describe(), indent=2, allow_nan=False, default=str))
    else:
        print(render_inspection(artifacts))
    return 0
