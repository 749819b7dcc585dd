"""Curves for trend detectors: the smoothed curve when modelled, a rolling median otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import finite_part, log_scale, rolling_median, window_steps

__all__ = ["TrendCurve", "trend_of"]


@dataclass(frozen=True, slots=True, eq=False)
class TrendCurve:
    """A metric's trend: steps, level (log10 for positive metrics), SE, slope, slope SE."""

    steps: IntArray
    level: FloatArray
    level_se: FloatArray
    slope: FloatArray
    slope_se: FloatArray
    log_scale: bool
    fallback: bool

    def at(self, step: int) -> float:
        """Return the level at the point nearest ``step``."""
        return float(self.level[int(np.argmin(np.abs(self.steps - step)))])

    def window(self, start: int, end: int) -> np.ndarray:  # type: ignore[type-arg]
        """Return a mask of the points with ``start <= step <= end``."""
        return (self.steps >= start) & (self.steps <= end)


def trend_of(run: ModelledRun, series: MetricSeries) -> TrendCurve | None:
    """Return the trend of ``series``: its smoothed curve, or a rolling-median fallback.

    Returns None when fewer than 5 finite points exist.
    """
    curve = run.curves.get(series.name)
    if curve is not None and curve.method not in ("too_short",) and np.isfinite(curve.level).all():
        return TrendCurve(
            curve.steps,
            curve.level,
            curve.level_se,
            curve.slope,
            curve.slope_se,
            curve.log_scale,
            fallback=curve.method == "ewma_fallback",
        )
    steps, values = finite_part(series)
    if len(steps) < 5:
        return None
    y, is_log = log_scale(values)
    keep = np.isfinite(y)
    steps, y = steps[keep], y[keep]
    if len(steps) < 5:
        return None
    level = rolling_median(steps, y, window=window_steps(steps, frac=0.1, min_points=5))
    resid_sd = float(np.std(y - level)) or 1e-12
    slope = np.gradient(level, steps.astype(float)) if len(steps) > 1 else np.zeros(len(steps))
    se = np.full(len(steps), resid_sd)
    return TrendCurve(steps, level, se, slope, np.full(len(steps), np.nan), is_log, fallback=True)


def slope_sign_probability(trend: TrendCurve, start: int, end: int, *, positive: bool) -> float:
    """P(mean slope over the window has the given sign), conservative (mean SE as SE).

    0.5 when unknown (fallback curves have no slope SE).
    """
    from scipy.special import ndtr

    mask = trend.window(start, end)
    if not mask.any() or not np.isfinite(trend.slope_se[mask]).all():
        return 0.5
    mean, se = float(np.mean(trend.slope[mask])), float(np.mean(trend.slope_se[mask]))
    if se <= 0:
        return 0.5
    return float(ndtr(mean / se if positive else -mean / se))
