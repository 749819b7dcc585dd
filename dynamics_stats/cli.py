"""The ``dynamics-stats`` command line.

Exit codes: 0 on success, 2 on bad input (the message says what, where and how to fix
it; no traceback), 3 when a ``--fail-on`` rule is met, 1 on an internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from dynamics_stats.agent.analyze import analyze
from dynamics_stats.core.analysis_config import AnalysisConfig, load_config
from dynamics_stats.core.config import ValidationConfig
from dynamics_stats.core.errors import DynamicsStatsError, InputError, UnknownNameError
from dynamics_stats.detectors.base import CORE_KINDS
from dynamics_stats.io import LOADERS, LoadOptions, load_run
from dynamics_stats.report.inspect import render_inspection
from dynamics_stats.report.render import render_text
from dynamics_stats.validate import validate_run

__all__ = ["main"]


def _add_source_arguments(
    parser: argparse.ArgumentParser, *, format_flags: tuple[str, ...]
) -> None:
    parser.add_argument("path", help="log file or folder, or runs:/<run_id> for MLflow")
    parser.add_argument(*format_flags, dest="log_format", help="force a log format (see 'formats')")
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="NAME=ROLE",
        help="give a metric a role, e.g. --role norm=grad_norm (repeatable)",
    )
    parser.add_argument("--tracking-uri", help="MLflow tracking URI for runs:/ sources")
    parser.add_argument("--regex", help="regex with named groups for plain-text logs")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dynamics-stats",
        description="Diagnose a neural-network training run from the metrics it logged.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="show format, metrics, roles and repairs")
    _add_source_arguments(inspect, format_flags=("--format", "--log-format"))
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")
    analyze = commands.add_parser(
        "analyze", help="diagnose a run (probabilities, findings, advice)"
    )
    _add_source_arguments(analyze, format_flags=("--log-format",))
    analyze.add_argument(
        "--format",
        dest="output_format",
        choices=("text", "json"),
        default="text",
        help="report format (default: text)",
    )
    analyze.add_argument("--out", help="write the report to this file instead of stdout")
    analyze.add_argument("--config", help="TOML file with analysis settings")
    analyze.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="KIND:PROB",
        help="exit 3 when a problem's probability reaches PROB, e.g. divergence:0.8 (repeatable)",
    )
    commands.add_parser("formats", help="list the log formats that can be read")
    return parser


def _parse_roles(pairs: Sequence[str]) -> dict[str, str]:
    roles = {}
    for pair in pairs:
        name, sep, role = pair.rpartition("=")
        if not sep or not name:
            raise InputError(f"--role expects NAME=ROLE, e.g. --role norm=grad_norm; got {pair!r}.")
        roles[name] = role
    return roles


def _load_validated(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    config = ValidationConfig(roles=_parse_roles(args.role))  # type: ignore[arg-type]
    options = LoadOptions(tracking_uri=args.tracking_uri, regex=args.regex)
    run = load_run(args.path, format=args.log_format, options=options)
    return validate_run(run, config)


def _cmd_inspect(args: argparse.Namespace) -> int:
    artifacts = _load_validated(args)
    if args.json:
        print(json.dumps(artifacts.describe(), indent=2, allow_nan=False, default=str))
    else:
        print(render_inspection(artifacts))
    return 0


def _cmd_formats(args: argparse.Namespace) -> int:
    for spec in LOADERS.values():
        extra = f'  (pip install "dynamics_stats[{spec.extra}]")' if spec.extra else ""
        print(f"{spec.format:<18} {spec.description}{extra}")
    return 0


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


def _cmd_analyze(args: argparse.Namespace) -> int:
    fail_on = _parse_fail_on(args.fail_on)
    config = load_config(args.config) if args.config else AnalysisConfig()
    roles = _parse_roles(args.role)
    if roles:
        merged = {**config.validation.roles, **roles}
        config = replace(config, validation=replace(config.validation, roles=merged))
    if args.log_format:
        config = replace(config, format=args.log_format)
    options = LoadOptions(tracking_uri=args.tracking_uri, regex=args.regex)
    run = load_run(args.path, format=config.format, options=options)
    result = analyze(run, config)
    text = result.to_json() if args.output_format == "json" else render_text(result)
    _emit(text, args.out)
    failed = [k for k, t in fail_on if result.probability(k) >= t]
    if failed:
        print(f"dynamics-stats: failing on {', '.join(failed)}", file=sys.stderr)
        return 3
    return 0


def _emit(text: str, out: str | None) -> None:
    if out is None:
        print(text)
        return
    try:
        Path(out).write_text(text + "\n", encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write the report to '{out}': {err.strerror}.") from err


_COMMANDS = {"inspect": _cmd_inspect, "analyze": _cmd_analyze, "formats": _cmd_formats}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 2 on bad input, 1 on an internal error.
    """
    args = _build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (InputError, UnknownNameError) as err:
        print(f"dynamics-stats: error: {err}", file=sys.stderr)
        return 2
    except DynamicsStatsError as err:
        print(f"dynamics-stats: internal error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
