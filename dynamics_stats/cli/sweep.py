"""``dynamics-stats sweep``: which hyper-parameters drive performance and pathologies."""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from dynamics_stats.cli._common import emit
from dynamics_stats.core.errors import InputError

__all__ = ["register", "run"]


#: Modules that may hold ``render_sweep_html`` (the HTML reports are written separately).
_HTML_MODULES = ("dynamics_stats.report.sweep_html", "dynamics_stats.report.html_sweep")


def _html_module() -> str | None:
    """Return the module with the HTML sweep report, found without importing it, or None."""
    return next((m for m in _HTML_MODULES if importlib.util.find_spec(m) is not None), None)


def _has_html() -> bool:
    """Whether ``--format html`` can be offered."""
    return _html_module() is not None


def register(commands: Any) -> None:
    """Add the ``sweep`` parser to the sub-command set ``commands``."""
    parser = commands.add_parser(
        "sweep", help="correlate a sweep's hyper-parameters with performance and problems"
    )
    parser.add_argument(
        "path",
        help="folder of runs, CSV table (plain or W&B export), optuna:sqlite:///x.db#study, "
        "or mlflow:<tracking_uri>#experiment",
    )
    parser.add_argument(
        "--objective", help="metric (or table column) to optimise; default val_loss"
    )
    parser.add_argument("--direction", choices=("minimize", "maximize"), help="default: inferred")
    parser.add_argument("--jobs", type=int, help="worker processes (default: every CPU)")
    parser.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--study", help="Optuna study name (when not given after '#')")
    parser.add_argument("--experiment", help="MLflow experiment name (when not given after '#')")
    formats = ("text", "json", "html") if _has_html() else ("text", "json")
    parser.add_argument(
        "--format", dest="output_format", choices=formats, default="text", help="report format"
    )
    parser.add_argument("--out", help="write the report to this file instead of stdout")
    parser.add_argument(
        "--no-progress", action="store_true", help="never draw the progress bar on stderr"
    )


def _render(result: Any, output_format: str) -> str:
    if output_format == "json":
        return str(result.to_json())
    if output_format == "html":
        module = importlib.import_module(str(_html_module()))
        return str(module.render_sweep_html(result))
    from dynamics_stats.report.sweep_text import render_sweep_text

    return render_sweep_text(result)


def run(args: argparse.Namespace) -> int:
    """Analyse the sweep and print or write the report; return the exit code."""
    from dynamics_stats.agent.sweep import analyze_sweep_runs
    from dynamics_stats.io.sweep import load_sweep

    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be at least 1; got {args.jobs}.")
    source = load_sweep(
        args.path,
        objective=args.objective,
        direction=args.direction,
        study=args.study,
        experiment=args.experiment,
    )
    result = analyze_sweep_runs(
        source,
        objective=args.objective,
        jobs=args.jobs,
        client=args.scheduler,
        progress=False if args.no_progress else None,
    )
    emit(_render(result, args.output_format), args.out)
    return 0
