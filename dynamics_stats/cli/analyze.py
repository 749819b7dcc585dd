"""``dynamics-stats analyze``: calibrated diagnosis of one run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
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
        choices=("text", "json", "html"),
        default="text",
        help="report format (default: text); html is one self-contained file and needs --out",
    )
    parser.add_argument(
        "--out", help="write the report to this file instead of stdout (required for html)"
    )
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


def _check_out(output_format: str, out: str | None) -> None:
    """Fail before the analysis when the report could not be written where asked."""
    if out is None:
        if output_format == "html":
            raise InputError(
                "--format html writes a file: pass --out FILE, e.g. --out report.html."
            )
        return
    target = Path(out)
    if target.is_dir():
        raise InputError(f"--out '{out}' is a folder; pass a file name, e.g. {out}/report.html.")
    if not target.parent.is_dir():
        raise InputError(
            f"cannot write the report to '{out}': folder '{target.parent}' does not exist. "
            "Create it first or choose another --out."
        )


def _config(args: argparse.Namespace) -> Any:
    from dynamics_stats.core.analysis_config import AnalysisConfig, load_config

    config = load_config(args.config) if args.config else AnalysisConfig()
    roles = parse_roles(args.role)
    if roles:
        merged: dict[str, Any] = {**config.validation.roles, **roles}
        config = replace(config, validation=replace(config.validation, roles=merged))
    if args.log_format:
        config = replace(config, format=args.log_format)
    return config


def _render(details: Any, args: argparse.Namespace) -> str:
    if args.output_format == "json":
        return str(details.result.to_json())
    if args.output_format == "html":
        from dynamics_stats.report.html import render_html

        return render_html(details)
    from dynamics_stats.report.render import render_text, use_colour

    colour = args.out is None and use_colour(sys.stdout)
    return render_text(details.result, colour=colour)


def run(args: argparse.Namespace) -> int:
    """Analyse the run and print or write the report; return the exit code."""
    from dynamics_stats.agent.analyze import analyze_in_detail
    from dynamics_stats.io import LoadOptions, load_run
    from dynamics_stats.report._progress import LONG_INPUT_BYTES, StageProgress, input_bytes
    from dynamics_stats.validate import validate_run

    fail_on = _parse_fail_on(args.fail_on)
    _check_out(args.output_format, args.out)
    config = _config(args)
    options = LoadOptions(tracking_uri=args.tracking_uri, regex=args.regex)
    long_input = input_bytes(args.path) >= LONG_INPUT_BYTES
    progress = StageProgress(sys.stderr, 4, enabled=long_input)
    try:
        progress.stage("reading the log")
        run_log = load_run(args.path, format=config.format, options=options)
        progress.stage("validating")
        artifacts = validate_run(run_log, config.validation)
        progress.stage("modelling curves and detecting problems")
        details = analyze_in_detail(artifacts, config)
        progress.stage("rendering")
        report = _render(details, args)
    finally:
        progress.close()
    emit(report, args.out)
    result = details.result
    failed = [kind for kind, threshold in fail_on if result.probability(kind) >= threshold]
    if failed:
        print(f"dynamics-stats: failing on {', '.join(failed)}", file=sys.stderr)
        return 3
    return 0
