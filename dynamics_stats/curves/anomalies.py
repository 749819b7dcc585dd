"""`score_grad_norms`: isolation-forest anomaly scores of the gradient norm (scikit-learn)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.config import AnomalyConfig
from dynamics_stats.core.errors import ModelFitError
from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.curves.types import GradAnomalies

__all__ = ["FEATURES", "score_grad_norms"]

FEATURES: tuple[str, ...] = (
    "log_norm",
    "log_norm_change",
    "rolling_robust_z",
    "position",
    "log_lr",
)
_MIN_POINTS = 20
_WINDOW_FRAC = 0.05


def _features(steps: IntArray, g: FloatArray, lr: MetricSeries | None) -> FloatArray:
    span = max(int(steps[-1] - steps[0]), 1)
    window = max(int(_WINDOW_FRAC * span), 1)
    series = pd.Series(g, index=pd.to_timedelta(steps, unit="ns"))
    rolling = series.rolling(pd.Timedelta(window, unit="ns"), min_periods=3)
    median = rolling.median().shift(1).bfill().to_numpy(float)
    mad = (series - rolling.median()).abs().rolling(pd.Timedelta(window, unit="ns"), min_periods=3)
    spread = 1.4826 * mad.median().shift(1).bfill().to_numpy(float) + 1e-6
    change = np.concatenate(([0.0], np.diff(g)))
    position = (steps - steps[0]) / span
    log_lr = np.zeros(len(g))
    if lr is not None:
        keep = np.isfinite(lr.values) & (lr.values > 0)
        if keep.any():
            pos = np.searchsorted(lr.steps[keep], steps, side="right") - 1
            log_lr = np.log10(lr.values[keep][np.clip(pos, 0, keep.sum() - 1)])
    z = np.nan_to_num((g - median) / spread, nan=0.0)
    return np.column_stack([g, change, z, position, log_lr])


def _reduced(steps: IntArray, g: FloatArray, max_points: int) -> tuple[IntArray, FloatArray]:
    """Keep each bin's largest norm when the series is longer than ``max_points``."""
    if len(g) <= max_points:
        return steps, g
    width = (int(steps[-1]) - int(steps[0]) + 1) / max_points
    index = np.minimum(((steps - steps[0]) / width).astype(np.int64), max_points - 1)
    order = np.lexsort((-g, index))
    first = order[np.flatnonzero(np.diff(index[order], prepend=-1))]
    pick = np.sort(first)
    return steps[pick], g[pick]


def score_grad_norms(
    series: MetricSeries, *, config: AnomalyConfig, learning_rate: MetricSeries | None = None
) -> GradAnomalies | None:
    """Score every gradient-norm point with an isolation forest.

    Parameters
    ----------
    series : MetricSeries
        The pre-clip total gradient norm.
    config : AnomalyConfig
        Forest size, fitting subsample, contamination and seed.
    learning_rate : MetricSeries or None, default=None
        The learning rate, used as a feature (its log) when given.

    Returns
    -------
    GradAnomalies or None
        None when fewer than 20 finite positive norms are logged.

    Raises
    ------
    ModelFitError
        If scikit-learn fails on the features.

    Notes
    -----
    Features (`FEATURES`): log10 norm, its change from the previous point, a robust z-score
    against the median/MAD of the preceding 5% of the run (in steps), the position in the
    run (0-1), and log10 LR. Series longer than ``max_score_points`` are reduced to the
    largest norm of each of that many equal windows of steps (spikes survive). The forest
    (fixed ``random_state``) is fitted on an evenly spaced subsample of at most
    ``max_fit_points`` points and scores all points; the score is scikit-learn's
    ``-score_samples`` (about 0.5 ordinary, near 1 anomalous).
    """
    from sklearn.ensemble import IsolationForest

    keep = np.isfinite(series.values) & (series.values > 0)
    steps, g = _reduced(series.steps[keep], np.log10(series.values[keep]), config.max_score_points)
    if len(g) < _MIN_POINTS:
        return None
    x = _features(steps, g, learning_rate)
    fit_rows = np.linspace(0, len(x) - 1, min(len(x), config.max_fit_points)).astype(int)
    forest = IsolationForest(
        n_estimators=config.n_estimators,
        max_samples=min(256, len(fit_rows)),
        contamination=config.contamination,
        random_state=config.seed,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forest.fit(x[fit_rows])
            raw = forest.score_samples(x)
    except ValueError as err:
        raise ModelFitError(
            f"isolation forest failed on {series.name!r} ({len(g)} points): {err}"
        ) from err
    scores, flags = -raw, raw < forest.offset_
    return GradAnomalies(
        metric=series.name,
        steps=steps,
        scores=np.asarray(scores, float),
        is_anomaly=np.asarray(flags, bool),
        features=FEATURES,
    )
