"""`analyze_sweep_runs`: analyse every run of a sweep in parallel, then correlate.

Each run goes through the single-run analyzer in a worker (`analyze_sweep_run`): a local
process pool by default, or a Dask cluster when a ``dask.distributed.Client`` (or its
scheduler address) is given. Workers receive the run's path or URI, never its data, and
send back a few numbers: best and final objective, steps to converge and the seven
problem probabilities. Those become a `SweepTable` for `analyze_sweep`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from dynamics_stats.agent._progress import ProgressBar
from dynamics_stats.agent._sweep_worker import RunRecord, analyze_sweep_run
from dynamics_stats.core.analysis_config import AnalysisConfig
from dynamics_stats.core.errors import ConfigError, InputError
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.io._sweep_types import SweepDirection, guess_direction
from dynamics_stats.io.sweep import SweepRun, SweepSource, load_sweep
from dynamics_stats.sweeps.analyze import analyze_sweep
from dynamics_stats.sweeps.result import SweepResult
from dynamics_stats.sweeps.table import PROBLEM_COLUMNS, SweepTable

__all__ = ["analyze_runs", "analyze_sweep_runs", "build_sweep_table", "correlate_runs"]

_MAX_LISTED = 5


def analyze_sweep_runs(  # noqa: PLR0913 - the documented options of a parallel analysis
    source: str | Path | SweepSource,
    *,
    objective: str | None = None,
    jobs: int | None = None,
    client: Any = None,
    config: AnalysisConfig | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Analyse every run of a sweep and correlate hyper-parameters with the outcomes.

    Parameters
    ----------
    source : str, pathlib.Path or SweepSource
        Anything `dynamics_stats.io.sweep.load_sweep` reads, or its result.
    objective : str or None, default=None
        Metric name or role of the objective (runs with logs) or table column; when None,
        the source's objective, else the validation loss. For runs with logs the table's
        objective column is ``best_<objective>``.
    jobs : int or None, default=None
        Worker processes of the local pool; None uses every CPU, 1 runs in this process.
    client : dask.distributed.Client, str or None, default=None
        Run the per-run analyses on this Dask cluster instead (a ``tcp://`` scheduler
        address opens, and then closes, a client).
    config : AnalysisConfig or None, default=None
        Settings of each single-run analysis.
    progress : bool or None, default=None
        Draw a progress bar on stderr; None draws it only on a terminal.

    Returns
    -------
    SweepResult
        Parameters ranked by importance, their correlations with the objective and with
        each problem probability, per-run outcomes and the limitations (runs left out).

    Raises
    ------
    LoadError
        If the sweep cannot be read.
    InputError
        If fewer than three runs have a finite objective.
    """
    if not isinstance(source, SweepSource):
        source = load_sweep(source, objective=objective)
    records = analyze_runs(
        source, objective=objective, jobs=jobs, client=client, config=config, progress=progress
    )
    return correlate_runs(source, records, objective=objective)


def analyze_runs(  # noqa: PLR0913 - the options of `analyze_sweep_runs`
    source: SweepSource,
    *,
    objective: str | None = None,
    jobs: int | None = None,
    client: Any = None,
    config: AnalysisConfig | None = None,
    progress: bool | None = None,
) -> tuple[RunRecord, ...]:
    """Analyse every run of a sweep in parallel (the first half of `analyze_sweep_runs`).

    Parameters are those of `analyze_sweep_runs`, with ``source`` already loaded.

    Returns
    -------
    tuple of RunRecord
        One per run, in the order the runs finished.
    """
    if jobs is not None and jobs < 1:
        raise ConfigError(f"jobs must be an int >= 1 (worker processes); got {jobs}.")
    bar = ProgressBar(len(source.runs), enabled=progress)
    work = partial(analyze_sweep_run, objective=_metric(source, objective), config=config)
    try:
        return tuple(_map_runs(source.runs, work, jobs=jobs, client=client, bar=bar))
    finally:
        bar.close()


def correlate_runs(
    source: SweepSource, records: Sequence[RunRecord], *, objective: str | None = None
) -> SweepResult:
    """Build the sweep table from the records and run `analyze_sweep` on it.

    Parameters
    ----------
    source : SweepSource
        The sweep.
    records : sequence of RunRecord
        What `analyze_runs` returned.
    objective : str or None, default=None
        As for `analyze_sweep_runs`.

    Returns
    -------
    SweepResult
    """
    table = build_sweep_table(source, records, objective=_metric(source, objective))
    log_scale = {name: True for name in source.log_scale if name in table.params.columns}
    return analyze_sweep(table, log_scale=log_scale or None)


def _metric(source: SweepSource, objective: str | None) -> str | None:
    """Return the metric the workers look for: as asked, else the folder/MLflow sweep's."""
    return objective or (source.objective if source.kind in ("folder", "mlflow") else None)


def _map_runs(
    runs: Sequence[SweepRun],
    work: Callable[[SweepRun], RunRecord],
    *,
    jobs: int | None,
    client: Any,
    bar: ProgressBar,
) -> Iterator[RunRecord]:
    """Yield ``work(run)`` for every run, in the order the runs finish."""
    if client is not None:
        yield from _map_dask(runs, work, client=client, bar=bar)
        return
    n_workers = min(jobs or os.cpu_count() or 1, len(runs))
    if n_workers <= 1:
        for run in runs:
            yield work(run)
            bar.advance()
        return
    with ProcessPoolExecutor(max_workers=n_workers) as pool:
        futures = [pool.submit(work, run) for run in runs]
        for future in as_completed(futures):
            yield future.result()
            bar.advance()


def _map_dask(
    runs: Sequence[SweepRun],
    work: Callable[[SweepRun], RunRecord],
    *,
    client: Any,
    bar: ProgressBar,
) -> Iterator[RunRecord]:
    """Map the same worker function over the runs on a Dask cluster."""
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError as err:
        raise InputError(
            'running a sweep on Dask needs dask.distributed: pip install "dynamics_stats[dask]"'
        ) from err
    own = isinstance(client, str)
    active = Client(client) if own else client  # type: ignore[no-untyped-call]
    try:
        futures = active.map(work, list(runs), pure=False)
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]
            yield future.result()
            bar.advance()
    finally:
        if own:
            active.close()


def _listed(items: Sequence[str]) -> str:
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _limitations(source: SweepSource, records: Sequence[RunRecord]) -> list[str]:
    lines = list(source.limitations)
    failed = [r for r in records if r.error]
    lines += [f"run '{r.run_id}' was left out: {r.error}" for r in failed[:_MAX_LISTED]]
    if len(failed) > _MAX_LISTED:
        rest = [r.run_id for r in failed[_MAX_LISTED:]]
        lines.append(f"{len(rest)} more runs were left out: {_listed(rest)}.")
    noted = [r for r in records if r.notes]
    lines += [f"run '{r.run_id}': {note}." for r in noted[:_MAX_LISTED] for note in r.notes]
    if len(noted) > _MAX_LISTED:
        rest = [r.run_id for r in noted[_MAX_LISTED:]]
        lines.append(f"{len(rest)} more runs have notes like these: {_listed(rest)}.")
    analysed = [r for r in records if r.error is None] if source.per_run_logs else []
    by_count: dict[int, list[str]] = {}
    for kind in CORE_KINDS:
        n_unassessed = sum(kind in r.unassessed for r in analysed)
        if n_unassessed:
            by_count.setdefault(n_unassessed, []).append(kind)
    lines += [
        f"in {n} of {len(analysed)} runs the metrics needed to assess {', '.join(kinds)} were "
        "not logged; there, their probabilities are the calibration priors."
        for n, kinds in sorted(by_count.items(), reverse=True)
    ]
    if not source.per_run_logs:
        lines.append(
            f"the {source.kind.replace('_', ' ')} holds no training curves, so no run was "
            "analysed and the problem probabilities (p_overfitting ...) are missing; only the "
            "recorded outcomes are correlated."
        )
    return lines


def _direction(source: SweepSource, records: Sequence[RunRecord], objective: str) -> SweepDirection:
    if source.direction is not None:
        return source.direction
    seen = [r.metric_direction for r in records if r.metric_direction in ("min", "max")]
    if seen:
        return "maximize" if seen.count("max") > seen.count("min") else "minimize"
    return guess_direction(objective)


def _objective_column(source: SweepSource, outcomes: pd.DataFrame, objective: str | None) -> str:
    """Return the source's recorded value (tables, Optuna), else ``best_<metric>`` from the logs."""
    if source.objective is not None and source.objective in outcomes.columns:
        return source.objective
    best = [c for c in outcomes.columns if str(c).startswith("best_")]
    wanted = f"best_{objective}" if objective else (best[0] if best else "best_val_loss")
    if wanted in outcomes.columns:
        return str(wanted)
    raise InputError(
        f"no run of the sweep has the objective {objective or 'val_loss'!r}; outcomes found: "
        f"{', '.join(map(str, outcomes.columns)) or 'none'}. Pass --objective with a metric "
        "the runs logged."
    )


def build_sweep_table(
    source: SweepSource, records: Sequence[RunRecord], *, objective: str | None = None
) -> SweepTable:
    """Assemble the sweep table from the per-run records (runs in source order).

    Parameters
    ----------
    source : SweepSource
        The sweep the records come from.
    records : sequence of RunRecord
        One per run, in any order; runs with an ``error`` are left out and listed.
    objective : str or None, default=None
        Metric name or role the records' ``best_<metric>`` columns are named after.

    Returns
    -------
    SweepTable

    Raises
    ------
    InputError
        If no record has the objective, or fewer than three runs have a finite one.
    """
    by_id: dict[str, RunRecord] = {r.run_id: r for r in records}
    kept = [by_id[run.run_id] for run in source.runs if run.run_id in by_id]
    usable = [r for r in kept if r.error is None]
    ids = pd.Index([r.run_id for r in usable], name="run_id")
    params = pd.DataFrame([dict(r.params) for r in usable], index=ids)
    outcomes = pd.DataFrame([dict(r.outcomes) for r in usable], index=ids, dtype=float)
    column = _objective_column(source, outcomes, objective)
    ordered = [column] + [c for c in outcomes.columns if c != column]
    problems = [c for c in PROBLEM_COLUMNS if c in outcomes.columns]
    outcomes = outcomes[[c for c in ordered if c not in problems] + problems]
    return SweepTable(
        params=params.dropna(axis=1, how="all"),
        outcomes=outcomes,
        objective=column,
        direction=_direction(source, usable, column),
        limitations=tuple(_limitations(source, kept)),
    )
