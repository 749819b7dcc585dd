"""`model_curves`: the curve models of a run, each failure contained and noted."""

from __future__ import annotations

from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.config import CurvesConfig
from dynamics_stats.core.errors import ModelFitError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import Role
from dynamics_stats.curves.anomalies import score_grad_norms
from dynamics_stats.curves.changepoints import find_changepoints
from dynamics_stats.curves.smoothing import smooth_curve
from dynamics_stats.curves.types import Changepoint, GradAnomalies, ModelledRun, SmoothedCurve

__all__ = ["CHANGEPOINT_ROLES", "SMOOTHED_ROLES", "model_curves"]

#: Roles whose primary metric is smoothed.
SMOOTHED_ROLES: tuple[Role, ...] = ("train_loss", "val_loss", "val_metric", "grad_norm")
#: Roles whose primary metric is searched for changepoints.
CHANGEPOINT_ROLES: tuple[Role, ...] = ("train_loss", "val_loss", "grad_norm")


def _note(code: str, metric: str, message: str) -> ValidationIssue:
    return ValidationIssue(code=code, level="warning", message=message, metric=metric)


def _smooth_all(
    artifacts: TrainingArtifacts, config: CurvesConfig
) -> tuple[dict[str, SmoothedCurve], list[ValidationIssue]]:
    curves, notes = {}, []
    for role in SMOOTHED_ROLES:
        series = artifacts.get(role)
        if series is None:
            continue
        curve = smooth_curve(series, config=config.smoothing)
        curves[series.name] = curve
        if curve.method == "ewma_fallback":
            notes.append(
                _note(
                    "smoothing_fallback",
                    series.name,
                    f"the state-space model failed on {series.name!r}; a simpler smoother "
                    "(EWMA) was used and its uncertainty bands are approximate.",
                )
            )
    return curves, notes


def _changepoints_all(
    artifacts: TrainingArtifacts, curves: dict[str, SmoothedCurve], config: CurvesConfig
) -> tuple[dict[str, tuple[Changepoint, ...]], list[ValidationIssue]]:
    found, notes = {}, []
    for role in CHANGEPOINT_ROLES:
        name = artifacts.primary.get(role)
        if name is None or name not in curves:
            continue
        try:
            found[name] = find_changepoints(curves[name], config=config.changepoints)
        except ModelFitError as err:
            notes.append(
                _note("changepoints_failed", name, f"no changepoints for {name!r}: {err}.")
            )
    return found, notes


def _anomalies(
    artifacts: TrainingArtifacts, config: CurvesConfig
) -> tuple[GradAnomalies | None, list[ValidationIssue]]:
    norm = artifacts.get("grad_norm")
    if norm is None:
        return None, []
    try:
        lr = artifacts.get("learning_rate")
        return score_grad_norms(norm, config=config.anomalies, learning_rate=lr), []
    except ModelFitError as err:
        return None, [_note("anomalies_failed", norm.name, f"no anomaly scores: {err}.")]


def model_curves(artifacts: TrainingArtifacts, config: CurvesConfig | None = None) -> ModelledRun:
    """Smooth the main curves, find their changepoints and score gradient-norm anomalies.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    config : CurvesConfig or None, default=None
        Settings; defaults when None.

    Returns
    -------
    ModelledRun
        The run with its curve models; ``notes`` lists every model that failed or fell
        back (the others are unaffected).

    Examples
    --------
    >>> import pandas as pd
    >>> from dynamics_stats import load_run, validate_run
    >>> frame = pd.DataFrame({"step": range(50), "loss": [1 / (1 + s) for s in range(50)]})
    >>> modelled = model_curves(validate_run(load_run(frame)))
    >>> modelled.curve("train_loss").method
    'smooth_trend'
    """
    config = config or CurvesConfig()
    curves, notes = _smooth_all(artifacts, config)
    changepoints, cp_notes = _changepoints_all(artifacts, curves, config)
    anomalies, an_notes = _anomalies(artifacts, config)
    return ModelledRun(
        artifacts=artifacts,
        curves=curves,
        changepoints=changepoints,
        grad_anomalies=anomalies,
        notes=tuple(notes + cp_notes + an_notes),
    )
