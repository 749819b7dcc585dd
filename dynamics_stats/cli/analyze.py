"""``dynamics-stats analyze``: calibrated diagnosis of one run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dynamics_stats.cli._common import add_source_arguments, emit, parse_roles
from dynamics_stats.core.errors import InputError
from dynamics_stats.core.kinds import CORE_KINDS

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the ``analyze`` parser to the sub-command set ``commands``."""
    parser = commands.add_parser("analyze", help="diagnose a run (probabilities, findings, advice)")
    add_source_arguments(parser, format_flags=("--log-format",))
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=("text", "json"),
        default="text",
        help="report format (default: text)",
    )
    parser.add_argument("--out", help="write the report to this file instead of stdout")
    parser.add_argument("--config", help="TOML file with analysis settings")
    parser.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="KIND:PROB",
        help="exit 3 when a problem's probability reaches PROB, e.g. divergence:0.8 (repeatable)",
    )


def _parse_fail_on(items: Sequence[str]) -> list[tuple[str, float]]:
    rules = []
    for item in items:
        kind, sep, prob = item.partition(":")
        try:
            threshold = float(prob)
        except ValueError:
            threshold = float("nan")
        if not sep or kind not in CORE_KINDS or not 0.0 <= threshold <= 1.0:
            raise InputError(
                f"--fail-on expects KIND:PROB with KIND one of {', '.join(CORE_KINDS)} and PROB "
                f"in [0, 1]; got {item!r}."
            )
        rules.append((kind, threshold))
    return rules


def run(args: argparse.Namespace) -> int:
    """Analyse the run and print or write the report; return the exit code."""
    from dynamics_stats.agent.analyze import analyze
    from dynamics_stats.core.analysis_config import AnalysisConfig, load_config
    from dynamics_stats.io import LoadOptions, load_run
    from dynamics_stats.report.render import render_text

    fail_on = _parse_fail_on(args.fail_on)
    config = load_config(args.config) if args.config else AnalysisConfig()
    roles = parse_roles(args.role)
    if roles:
        merged = {**config.validation.roles, **roles}
        config = replace(config, validation=replace(config.validation, roles=merged))
    if args.log_format:
        config = replace(config, format=args.log_format)
    options = LoadOptions(tracking_uri=args.tracking_uri, regex=args.regex)
    result = analyze(load_run(args.path, format=config.format, options=options), config)
    emit(result.to_json() if args.output_format == "json" else render_text(result), args.out)
    failed = [kind for kind, threshold in fail_on if result.probability(kind) >= threshold]
    if failed:
        print(f"dynamics-stats: failing on {', '.join(failed)}", file=sys.stderr)
        return 3
    return 0
