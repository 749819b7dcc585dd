"""Trends for the detectors that read smoothed curves: smoothed curves, fallbacks, LR drops.

The overfitting, progress, efficiency, LR-schedule and validation-plateau detectors all
work on a `SmoothedCurve` from `trend_of`: the one `model_curves` fitted when it is
usable, otherwise a fallback built from the raw series (a local straight line through
robust bin medians, on the log10 scale for positive metrics), flagged by its ``method``.
"""

from __future__ import annotations

import math

import numpy as np

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.curves import bin_series
from dynamics_stats.curves.types import ModelledRun, SmoothedCurve
from dynamics_stats.detectors._common import MAD_TO_SD, finite_part, log_scale

__all__ = [
    "FALLBACK_METHOD",
    "badness",
    "extrapolated_gain",
    "flat_from",
    "improvement",
    "is_fallback",
    "level_at",
    "lr_drop_steps",
    "smooth_series",
    "steps_to_fraction",
    "trend_of",
]

#: ``SmoothedCurve.method`` of the fallback trend built here.
FALLBACK_METHOD = "local_linear_fallback"
_MODELLED = ("smooth_trend", "smooth_trend_mle")
_MIN_POINTS = 5
_FALLBACK_BINS = 150
_FALLBACK_HALF_WINDOW = 0.05  # of the run, each side


def _usable(curve: SmoothedCurve | None) -> bool:
    if curve is None or len(curve.steps) < _MIN_POINTS:
        return False
    arrays = (curve.level, curve.level_se, curve.slope, curve.slope_se)
    return all(np.isfinite(a).all() for a in arrays)


def trend_of(run: ModelledRun, series: MetricSeries) -> SmoothedCurve | None:
    """Return the smoothed curve of ``series``, or a fallback built from the raw values.

    Parameters
    ----------
    run : ModelledRun
        The modelled run (its ``curves`` may lack ``series``).
    series : MetricSeries
        The metric.

    Returns
    -------
    SmoothedCurve or None
        The curve layer's curve when it has finite levels, slopes and errors; otherwise
        the fallback (``method == FALLBACK_METHOD``); None without 5 finite points.

    Notes
    -----
    Fallback: the finite values (log10 when all positive) are binned into at most 150
    equal windows of steps (medians); each point's level and slope come from a
    least-squares line through the bins within 5 % of the run on each side (at least
    two bin widths). With ``sigma`` the robust SD of the bins around their levels, the
    level SE is ``sigma / sqrt(n)`` and the slope SE ``sigma / sqrt(Sxx)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from dynamics_stats import load_run, validate_run
    >>> frame = pd.DataFrame({"step": range(100), "loss": 1 / (1 + np.arange(100.0))})
    >>> run = ModelledRun(validate_run(load_run(frame)))
    >>> trend = trend_of(run, run.artifacts.get("train_loss"))
    >>> trend.method, trend.log_scale, bool(trend.slope[-1] < 0)
    ('local_linear_fallback', True, True)
    """
    curve = run.curves.get(series.name)
    if _usable(curve):
        return curve
    return _fallback(series)


def smooth_series(series: MetricSeries) -> SmoothedCurve | None:
    """Smooth a series derived by a detector (not in ``run.curves``), with the fallback.

    Uses `smooth_curve` with the default `SmoothingConfig`; the fallback when that
    fails or leaves non-finite states; None without 5 finite points.
    """
    from dynamics_stats.core.config import SmoothingConfig
    from dynamics_stats.core.errors import ModelFitError
    from dynamics_stats.curves import smooth_curve

    try:
        curve: SmoothedCurve | None = smooth_curve(series, config=SmoothingConfig())
    except ModelFitError:
        curve = None
    return curve if _usable(curve) else _fallback(series)


def _window_sums(x: FloatArray, y: FloatArray, lo: IntArray, hi: IntArray) -> list[FloatArray]:
    """Return the sums of 1, x, y, x^2 and xy over the index windows ``[lo, hi)``."""
    sums = []
    for a in (np.ones_like(x), x, y, x * x, x * y):
        c = np.concatenate(([0.0], np.cumsum(a)))
        sums.append(c[hi] - c[lo])
    return sums


def _fallback(series: MetricSeries) -> SmoothedCurve | None:
    steps, values = finite_part(series)
    y_raw, is_log = log_scale(values)
    keep = np.isfinite(y_raw)
    if keep.sum() < _MIN_POINTS:
        return None
    bin_steps, y, width = bin_series(steps[keep], y_raw[keep], max_points=_FALLBACK_BINS)
    ok = np.isfinite(y)
    bin_steps, y = bin_steps[ok], y[ok]
    x = (bin_steps - bin_steps[0]).astype(float)
    half = max(_FALLBACK_HALF_WINDOW * max(x[-1], 1.0), 2.0 * width)
    lo = np.searchsorted(x, x - half, side="left")
    hi = np.searchsorted(x, x + half, side="right")
    n, sx, sy, sxx, sxy = _window_sums(x, y, lo, hi)
    sxx_c = np.maximum(sxx - sx * sx / n, 1e-12)
    slope = (sxy - sx * sy / n) / sxx_c
    level = sy / n + slope * (x - sx / n)
    resid = y - level
    sigma = max(float(MAD_TO_SD * np.median(np.abs(resid - np.median(resid)))), 1e-12)
    return SmoothedCurve(
        metric=series.name,
        role=series.role,
        log_scale=is_log,
        steps=bin_steps.astype(np.int64),
        observed=y,
        level=level,
        level_se=sigma / np.sqrt(n),
        slope=slope,
        slope_se=sigma / np.sqrt(sxx_c),
        bin_width_steps=float(width),
        n_raw_points=int(keep.sum()),
        method=FALLBACK_METHOD,
        converged=False,
    )


def is_fallback(curve: SmoothedCurve) -> bool:
    """Return whether ``curve`` comes from a fallback rather than the state-space model."""
    return curve.method not in _MODELLED


def badness(curve: SmoothedCurve, direction: str) -> FloatArray:
    """Return the level oriented so that lower is better (minus it for ``"max"`` metrics).

    Examples
    --------
    >>> c = SmoothedCurve("acc", "val_metric", True, np.arange(3), *[np.ones(3)] * 5,
    ...                   1.0, 3, "smooth_trend", True)
    >>> badness(c, "max").tolist()
    [-1.0, -1.0, -1.0]
    """
    return np.asarray(-curve.level if direction == "max" else curve.level, dtype=float)


def level_at(curve: SmoothedCurve, step: float) -> float:
    """Return the level linearly interpolated at ``step`` (clamped to the curve's ends)."""
    return float(np.interp(step, curve.steps.astype(float), curve.level))


def flat_from(values: FloatArray, *, tol: float | FloatArray) -> int:
    """Return the index from which ``values`` stay within ``tol`` above their minimum.

    ``values`` are oriented so that lower is better; the result starts the final stretch
    without progress larger than ``tol`` (a number, or one per value, e.g. the larger of
    a tolerance and twice each value's standard error).

    Examples
    --------
    >>> flat_from(np.array([3.0, 2.0, 1.0, 1.05, 1.0]), tol=0.1)
    2
    """
    above = np.flatnonzero(values - np.min(values) > tol)
    return 0 if len(above) == 0 else min(int(above[-1]) + 1, len(values) - 1)


def lr_drop_steps(lr: MetricSeries, *, factor: float, window: int) -> tuple[int, ...]:
    """Return the steps where the LR fell below ``factor`` times its value ``window`` steps before.

    Consecutive qualifying points form one drop, reported at its first step; gradual
    schedules (cosine, linear) only qualify where they fall that fast.

    Examples
    --------
    >>> s = MetricSeries("lr", "learning_rate", "none", np.arange(10),
    ...                  np.r_[np.ones(5), np.full(5, 0.1)], np.full(10, np.nan),
    ...                  np.full(10, np.nan))
    >>> lr_drop_steps(s, factor=0.5, window=1)
    (5,)
    """
    keep = np.isfinite(lr.values) & (lr.values > 0)
    steps, values = lr.steps[keep], lr.values[keep]
    if len(steps) < 2:
        return ()
    before = np.searchsorted(steps, steps - window, side="right") - 1
    ref = np.where(before >= 0, values[np.maximum(before, 0)], np.nan)
    drop = values <= factor * ref
    starts = np.flatnonzero(drop & ~np.r_[False, drop[:-1]])
    return tuple(int(s) for s in steps[starts])


def improvement(curve: SmoothedCurve) -> tuple[float, float]:
    """Return the fall of the level from the start of the run to its minimum, and the start.

    The start is the highest level in the first 5 % of the run's steps (a warm-up may
    raise the loss before it falls). On the log scale the fall is in decades; otherwise
    it is relative to the start's magnitude, so that both are scale-invariant.

    Examples
    --------
    >>> c = SmoothedCurve("loss", "train_loss", True, np.arange(4), np.zeros(4),
    ...                   np.array([1.0, 0.5, 0.2, 0.2]), *[np.zeros(4)] * 3, 1.0, 4,
    ...                   "smooth_trend", True)
    >>> improvement(c)
    (0.8, 1.0)
    """
    span = float(curve.steps[-1] - curve.steps[0])
    head = curve.level[curve.steps <= curve.steps[0] + 0.05 * span]
    start = float(np.max(head))
    fall = start - float(np.min(curve.level))
    return (fall if curve.log_scale else fall / max(abs(start), 1e-12)), start


def steps_to_fraction(curve: SmoothedCurve, frac: float) -> float:
    """Return the steps from the start until the level first achieved ``frac`` of its fall."""
    fall, start = improvement(curve)
    if not fall > 0:
        return float("nan")
    scale = 1.0 if curve.log_scale else max(abs(start), 1e-12)
    reached = np.flatnonzero((start - curve.level) / scale >= frac * fall)
    return float(curve.steps[reached[0]] - curve.steps[0]) if len(reached) else float("nan")


def extrapolated_gain(curve: SmoothedCurve, *, fit_frac: float = 0.6) -> tuple[float, float]:
    """Return the further fall (decades) if the run went on as long again, and its SE.

    A saturating power law ``L(t) = a + c (t / T) ** -b`` (``a, c >= 0``, ``0.05 <= b <=
    3``; ``T`` the last step) is fitted by least squares to the observed (binned) loss,
    relative to the final smoothed level, over the last ``fit_frac`` of the run; the gain
    is ``log10(L(T) / L(2 T))``. The SE comes from the fit's covariance by the delta
    method and is conditional on the model (it ignores autocorrelated noise and model
    error: treat the band as a lower bound on the uncertainty). NaN when the curve is
    not on the log scale, has fewer than 8 points in the window, or the fit fails.
    """
    from scipy.optimize import least_squares

    end = float(curve.steps[-1])
    window = curve.steps >= end - fit_frac * (end - float(curve.steps[0]))
    inside = window & np.isfinite(curve.observed)
    if not curve.log_scale or inside.sum() < 8 or end <= 0:
        return float("nan"), float("nan")
    t = np.maximum(curve.steps[inside].astype(float), 1.0) / end
    u = 10.0 ** (curve.observed[inside] - curve.level[-1])

    def residuals(p: FloatArray) -> FloatArray:
        return np.asarray(p[0] + p[1] * t ** -p[2] - u, dtype=float)

    x0 = np.array([0.9 * float(np.min(u)), max(float(u[0] - np.min(u)), 1e-3), 0.5])
    try:
        fit = least_squares(residuals, x0, bounds=([0.0, 0.0, 0.05], [np.inf, np.inf, 3.0]))
    except (ValueError, np.linalg.LinAlgError):
        return float("nan"), float("nan")
    return _gain_and_se(fit.x, fit.jac, fit.fun)


def _gain_and_se(p: FloatArray, jac: FloatArray, resid: FloatArray) -> tuple[float, float]:
    def gain(q: FloatArray) -> float:
        return float(np.log10((q[0] + q[1]) / max(q[0] + q[1] * 2.0 ** -q[2], 1e-300)))

    cov = float(np.sum(resid**2)) / max(len(resid) - 3, 1) * np.linalg.pinv(jac.T @ jac)
    h = np.maximum(np.abs(p) * 1e-6, 1e-9)
    grad = np.array([(gain(p + e) - gain(p - e)) / (2 * h[i]) for i, e in enumerate(np.diag(h))])
    variance = float(grad @ cov @ grad)
    return gain(p), math.sqrt(variance) if variance >= 0 else float("nan")
