"""What a worker does for one run of a sweep: load, analyse, and reduce to a few outcomes.

`analyze_sweep_run` is a module-level function of small, picklable arguments (a
`SweepRun` holding a path or URI, the objective name, the config), so a process pool or a
Dask cluster can run it where the logs are; it returns a small `RunRecord`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dynamics_stats.agent.analyze import analyze_artifacts
from dynamics_stats.core.analysis_config import AnalysisConfig
from dynamics_stats.core.artifacts import MetricSeries, TrainingArtifacts
from dynamics_stats.core.errors import DynamicsStatsError, DynamicsStatsWarning
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.sweep import SweepRun
from dynamics_stats.validate import validate_run

__all__ = ["CONVERGED_FRAC", "RunRecord", "analyze_sweep_run", "steps_to_converge"]

#: A run has converged once its running best is within this fraction of its total improvement.
CONVERGED_FRAC = 0.05


@dataclass(frozen=True, slots=True)
class RunRecord:
    """The outcomes of one analysed run, small enough to send back from a worker.

    Parameters
    ----------
    run_id : str
        The run's id in the sweep.
    params : tuple of (str, scalar)
        The sweep's parameters of the run, completed with those its log recorded.
    outcomes : tuple of (str, float)
        ``best_<metric>``, ``final_<metric>``, ``steps_to_converge``, ``p_<kind>`` for the
        seven kinds, and the values the sweep source recorded.
    metric_direction : str or None
        ``"min"`` or ``"max"`` for the objective metric found in the log, else None.
    notes : tuple of str
        Warnings raised while analysing the run, and why outcomes are missing.
    unassessed : tuple of str
        Problem kinds no detector could assess in this run (their probability is the prior).
    error : str or None
        Why the run could not be analysed at all (it is then left out), else None.
    """

    run_id: str
    params: tuple[tuple[str, HParamValue], ...]
    outcomes: tuple[tuple[str, float], ...]
    metric_direction: str | None
    notes: tuple[str, ...] = ()
    unassessed: tuple[str, ...] = ()
    error: str | None = None


def steps_to_converge(series: MetricSeries, *, maximize: bool = False) -> float:
    """Return the first step where the running best is within 5 % of the total improvement.

    Parameters
    ----------
    series : MetricSeries
        The objective metric; non-finite values are skipped.
    maximize : bool, default=False
        Whether larger values are better.

    Returns
    -------
    float
        The step, or NaN when the metric has no finite value.

    Notes
    -----
    With ``b_t`` the running best and ``v_0`` the first value, the step is the first
    ``t`` with ``|b_t - v_0| >= (1 - CONVERGED_FRAC) * |b_T - v_0|``; a run that never
    improves converges at its first step.
    """
    finite = np.isfinite(series.values)
    if not finite.any():
        return math.nan
    values = series.values[finite] * (-1.0 if maximize else 1.0)
    steps = series.steps[finite]
    running = np.minimum.accumulate(values)
    gain = values[0] - running
    reached = gain >= (1.0 - CONVERGED_FRAC) * gain[-1]
    return float(steps[int(np.argmax(reached))])


def _objective_series(
    artifacts: TrainingArtifacts, objective: str | None
) -> tuple[str, MetricSeries] | None:
    """Find the objective by metric name, then by role; default: validation, else train loss."""
    if objective is not None:
        if objective in artifacts.metric_names:
            return objective, artifacts.metric(objective)
        series = artifacts.get(objective)  # type: ignore[arg-type]
        return None if series is None else (objective, series)
    for role in ("val_loss", "train_loss"):
        series = artifacts.get(role)
        if series is not None:
            return role, series
    return None


def _outcomes(
    artifacts: TrainingArtifacts, objective: str | None
) -> tuple[list[tuple[str, float]], str | None, list[str]]:
    found = _objective_series(artifacts, objective)
    if found is None:
        wanted = objective or "a validation or train loss"
        available = ", ".join(artifacts.metric_names) or "none"
        return [], None, [f"it has no metric {wanted!r} (metrics: {available})"]
    label, series = found
    notes = []
    if objective is None and label != "val_loss":
        notes.append("it has no validation loss; its train loss stands for the objective")
    maximize = series.direction == "max"
    finite = series.values[np.isfinite(series.values)]
    best = float(finite.max() if maximize else finite.min()) if finite.size else math.nan
    last = float(series.values[-1]) if len(series) else math.nan
    outcomes = [
        (f"best_{label}", best),
        (f"final_{label}", last if math.isfinite(last) else math.nan),
        ("steps_to_converge", steps_to_converge(series, maximize=maximize)),
    ]
    return outcomes, series.direction, notes


def _read(run: SweepRun, config: AnalysisConfig) -> RunLog | None:
    if run.log is not None:
        options = LoadOptions(tracking_uri=run.tracking_uri)
        return load_run(run.log, format=config.format, options=options)
    if run.curve:
        steps, values = zip(*run.curve, strict=True)
        frame = pd.DataFrame({"step": steps, run.curve_metric or "val_objective": values})
        return load_run(frame)
    return None


def analyze_sweep_run(
    run: SweepRun, objective: str | None, config: AnalysisConfig | None = None
) -> RunRecord:
    """Analyse one run of a sweep with the single-run analyzer and keep its outcomes.

    Parameters
    ----------
    run : SweepRun
        The run: its log path or URI (or curve) and its parameters.
    objective : str or None
        Metric name or role of the objective; the validation loss when None.
    config : AnalysisConfig or None, default=None
        Settings of the single-run analysis.

    Returns
    -------
    RunRecord
        Outcomes and problem probabilities; ``error`` says why when the run could not be
        read or analysed (bad input is reported, never raised, so one broken run does not
        stop the sweep).
    """
    config = config or AnalysisConfig()
    params = dict(run.params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DynamicsStatsWarning)
        try:
            log = _read(run, config)
            if log is None:
                return RunRecord(run.run_id, run.params, run.values, None)
            artifacts = validate_run(log, config.validation)
            result = analyze_artifacts(artifacts, config)
        except (DynamicsStatsError, OSError, ValueError) as err:
            return RunRecord(run.run_id, run.params, run.values, None, error=str(err))
    params.update({k: v for k, v in log.hparams.items() if k not in params})
    metric = run.curve_metric if run.log is None and run.curve else objective
    outcomes, direction, notes = _outcomes(artifacts, metric)
    outcomes += [(f"p_{kind}", float(p)) for kind, p in result.issues]
    notes += [str(w.message) for w in caught if issubclass(w.category, DynamicsStatsWarning)]
    return RunRecord(
        run_id=run.run_id,
        params=tuple(params.items()),
        outcomes=(*run.values, *outcomes),
        metric_direction=direction,
        notes=tuple(notes),
        unassessed=tuple(kind for kind, assessed in result.assessed if not assessed),
    )
