"""``dynamics-stats feedback``: label runs, record what recommendations did, show the rate."""

from __future__ import annotations

import argparse
from typing import Any

from dynamics_stats.core.errors import InputError

__all__ = ["register", "run"]

_USAGE = (
    "use one of: RUN --kind KIND --present yes|no; --import labels.csv; "
    "RUN --recommendation ACTION --applied yes|no [--next-run PATH]; --summary"
)


def register(commands: Any) -> None:
    """Add the ``feedback`` parser to the sub-command set ``commands``."""
    parser = commands.add_parser(
        "feedback",
        help="label a run or record a recommendation's outcome (local store)",
        description=f"Store feedback in the local SQLite store; {_USAGE}.",
    )
    parser.add_argument("path", nargs="?", help="the run's log file or folder")
    parser.add_argument("--log-format", help="force the run's log format (see 'formats')")
    parser.add_argument("--kind", help="problem kind being labelled, e.g. overfitting")
    parser.add_argument("--present", help="yes or no: is the problem really there?")
    parser.add_argument("--finding", help="id of the single finding being labelled")
    parser.add_argument(
        "--import",
        dest="import_table",
        metavar="CSV",
        help="labels table with columns path,kind,present (and optional group)",
    )
    parser.add_argument("--recommendation", metavar="ACTION", help="recommendation action code")
    parser.add_argument("--applied", help="yes or no: was the recommendation applied?")
    parser.add_argument("--next-run", help="log of the run trained after the recommendation")
    parser.add_argument("--summary", action="store_true", help="print labels and outcome rates")
    parser.add_argument(
        "--store", help="SQLite file (default: $DYNAMICS_STATS_HOME/feedback.sqlite)"
    )


def _mode(args: argparse.Namespace) -> str:
    modes = [
        name
        for name, chosen in (
            ("label", args.kind is not None or args.present is not None),
            ("import", args.import_table is not None),
            ("outcome", args.recommendation is not None or args.applied is not None),
            ("summary", args.summary),
        )
        if chosen
    ]
    if len(modes) != 1:
        found = "nothing" if not modes else " and ".join(modes)
        raise InputError(f"feedback: got {found}; {_USAGE}.")
    mode = modes[0]
    needs_run = mode in ("label", "outcome")
    if needs_run != (args.path is not None):
        what = "needs the run's path" if needs_run else "takes no run path"
        raise InputError(f"feedback {mode} {what}; {_USAGE}.")
    if mode == "label" and (args.kind is None or args.present is None):
        raise InputError(f"feedback: labelling needs both --kind and --present; {_USAGE}.")
    if mode == "outcome" and (args.recommendation is None or args.applied is None):
        raise InputError(f"feedback: an outcome needs --recommendation and --applied; {_USAGE}.")
    if args.next_run is not None and mode != "outcome":
        raise InputError("feedback: --next-run goes with --recommendation and --applied.")
    return mode


def _load(path: str, log_format: str | None) -> Any:
    from dynamics_stats.io import load_run
    from dynamics_stats.validate import validate_run

    return validate_run(load_run(path, format=log_format))


def _label(args: argparse.Namespace) -> None:
    from dynamics_stats.calibration.feedback import parse_present, read_run_scores, record_label
    from dynamics_stats.calibration.maps import load_map
    from dynamics_stats.core.kinds import CORE_KINDS

    present = parse_present(args.present, where="--present")
    if args.kind not in CORE_KINDS:
        raise InputError(f"--kind must be one of {', '.join(CORE_KINDS)}; got {args.kind!r}.")
    artifacts = _load(args.path, args.log_format)
    key = record_label(
        artifacts, kind=args.kind, present=present, finding=args.finding, store=args.store
    )
    score = float(read_run_scores(store=args.store).loc[key, args.kind])
    cmap = load_map(kinds=CORE_KINDS)
    probability = cmap.probability(args.kind, score)
    said = "not assessed" if probability is None else f"{probability:.2f}"
    print(
        f"stored: run {key} {args.kind}={'yes' if present else 'no'} "
        f"(raw score {score:.3g}; {cmap.info.name} said {said})."
    )


def _outcome(args: argparse.Namespace) -> None:
    from dynamics_stats.calibration.feedback import compare_runs, parse_present, record_outcome

    applied = parse_present(args.applied, where="--applied")
    before = _load(args.path, args.log_format)
    after = _load(args.next_run, args.log_format) if args.next_run else None
    improved = record_outcome(
        before, action=args.recommendation, applied=applied, next_run=after, store=args.store
    )
    print(f"stored: {args.recommendation} {'applied' if applied else 'not applied'}.")
    if after is None:
        print("No --next-run given: whether it helped is unknown.")
        return
    role, best_before, best_after, _ = compare_runs(before, after)
    verdict = {True: "improved", False: "did not improve", None: "cannot be compared"}[improved]
    print(f"Next run {verdict}: best {role} {best_before:.4g} -> {best_after:.4g}.")


def _summary(args: argparse.Namespace) -> None:
    from dynamics_stats.calibration.feedback import outcome_summary, read_labels

    labels = read_labels(store=args.store)
    print(f"{labels['fingerprint'].nunique()} labelled runs, {len(labels)} labels")
    for kind, part in labels.groupby("kind"):
        print(f"  {kind:<21}{len(part):>4} labels, {int(part['label'].sum()):>4} present")
    print("\nRecommendations: applied and followed by a better run")
    print(outcome_summary(store=args.store).summary())


def run(args: argparse.Namespace) -> int:
    """Carry out the feedback sub-command; return the exit code."""
    mode = _mode(args)
    if mode == "label":
        _label(args)
    elif mode == "outcome":
        _outcome(args)
    elif mode == "summary":
        _summary(args)
    else:
        from dynamics_stats.calibration.feedback import import_labels

        keys = import_labels(args.import_table, store=args.store)
        print(f"stored {len(keys)} labels of {len(set(keys))} runs from {args.import_table}.")
    return 0
