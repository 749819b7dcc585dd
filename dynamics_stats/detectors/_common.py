"""Helpers shared by detectors: transforms, windows in steps, rolling robust statistics.

Every window is measured in steps, never in logged points, so a run logged every step and
the same run logged every ten steps give the same statistics (up to sampling noise).
Positive metrics are analysed as ``log10`` values, so multiplying a metric by a constant
shifts them and leaves every difference, spread and z-score unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import BoolArray, FloatArray, IntArray
from dynamics_stats.curves.types import ModelledRun

__all__ = [
    "Level",
    "MAD_TO_SD",
    "MAX_POINTS",
    "finite_part",
    "first_nonfinite",
    "head_mask",
    "level_of",
    "log_scale",
    "mad_sd",
    "median_interval",
    "nonfinite_persistence",
    "robust_sd",
    "rolling_mean",
    "rolling_median",
    "run_span",
    "tail_mask",
    "trailing_extreme",
    "trailing_median_mad",
    "value_at",
    "values_at",
    "window_steps",
]

#: Multiply a median absolute deviation by this to estimate a Gaussian standard deviation.
MAD_TO_SD = 1.4826

#: Detectors work on at most this many points; longer series are reduced by binning.
MAX_POINTS = 20_000


def _bin_index(steps: IntArray, n_bins: int) -> IntArray:
    width = (int(steps[-1]) - int(steps[0]) + 1) / n_bins
    index: IntArray = np.minimum(((steps - steps[0]) / width).astype(np.int64), n_bins - 1)
    return index


def _bin_pick(steps: IntArray, values: FloatArray, n_bins: int, keep: str) -> BoolArray:
    """Return a mask of each bin's largest (and, for ``"extremes"``, smallest) point."""
    index = _bin_index(steps, n_bins)
    pick = np.zeros(len(steps), dtype=bool)
    signs = (-1.0, 1.0) if keep == "extremes" else (-1.0,)
    for sign in signs:
        order = np.lexsort((sign * values, index))
        pick[order[np.flatnonzero(np.diff(index[order], prepend=-1))]] = True
    return pick


def finite_part(
    series: MetricSeries, *, max_points: int = MAX_POINTS, keep: str = "median"
) -> tuple[IntArray, FloatArray]:
    """Return the steps and values of the finite points of a series, at most ``max_points``.

    Parameters
    ----------
    series : MetricSeries
        The metric.
    max_points : int, default=MAX_POINTS
        Longer series are reduced to this many equal-width bins of steps, so detectors cost
        the same on a 100k- and a 10M-step run.
    keep : {"median", "max", "extremes"}, default="median"
        What a bin keeps: its median (levels, volatility), its largest point (peaks), or
        its largest and smallest points at their own steps (excursions in both directions
        survive, so upward and downward noise stay comparable).

    Returns
    -------
    steps : ndarray of int64
    values : ndarray of float64
    """
    finite = np.isfinite(series.values)
    steps, values = series.steps[finite], series.values[finite]
    if len(steps) <= max_points:
        return steps, values
    if keep in ("max", "extremes"):
        n_bins = max_points if keep == "max" else max_points // 2
        pick = _bin_pick(steps, values, n_bins, keep)
        return steps[pick], values[pick]
    from dynamics_stats.curves import bin_series

    bin_steps, medians, _ = bin_series(steps, values, max_points=max_points)
    ok = np.isfinite(medians)
    return bin_steps[ok], medians[ok]


def log_scale(values: FloatArray) -> tuple[FloatArray, bool]:
    """Return ``log10(values)`` when every finite value is positive, else the values.

    Returns
    -------
    y : ndarray of float64
        Transformed values (non-finite values become NaN).
    is_log : bool
        Whether the log was taken.

    Examples
    --------
    >>> log_scale(np.array([1.0, 10.0, 100.0]))[0].tolist()
    [0.0, 1.0, 2.0]
    """
    finite = np.isfinite(values)
    if finite.any() and np.all(values[finite] > 0):
        safe = np.where(finite, values, 1.0)
        return np.where(finite, np.log10(safe), np.nan), True
    return np.where(finite, values, np.nan), False


def median_interval(steps: IntArray) -> float:
    """Return the median logging interval in steps (1.0 for fewer than two points)."""
    return float(np.median(np.diff(steps))) if len(steps) > 1 else 1.0


def run_span(steps: IntArray) -> int:
    """Return the number of steps a series covers (at least 1)."""
    return max(int(steps[-1] - steps[0]), 1) if len(steps) else 1


def window_steps(steps: IntArray, *, frac: float, min_points: int = 5) -> int:
    """Return a window of ``frac`` of the run, in steps, covering at least ``min_points`` points.

    Parameters
    ----------
    steps : ndarray of int64
        Increasing steps.
    frac : float
        Fraction of the run the window spans.
    min_points : int, default=5
        Lower bound, in units of the median logging interval.

    Returns
    -------
    int
    """
    floor = int(np.ceil(min_points * median_interval(steps)))
    return max(int(round(frac * run_span(steps))), floor, 1)


def head_mask(steps: IntArray, frac: float) -> BoolArray:
    """Return a mask of the points in the first ``frac`` of the run (at least the first)."""
    mask: BoolArray = steps <= steps[0] + frac * run_span(steps)
    mask[0] = True
    return mask


def tail_mask(steps: IntArray, frac: float) -> BoolArray:
    """Return a mask of the points in the last ``frac`` of the run (at least the last)."""
    mask: BoolArray = steps >= steps[-1] - frac * run_span(steps)
    mask[-1] = True
    return mask


def _indexed(steps: IntArray, y: FloatArray) -> pd.Series:
    return pd.Series(y, index=pd.to_timedelta(np.asarray(steps, np.int64), unit="ns"))


def _offset(window: int) -> pd.Timedelta:
    return pd.Timedelta(max(int(window), 1), unit="ns")


def trailing_median_mad(
    steps: IntArray, y: FloatArray, *, window: int, min_points: int = 3
) -> tuple[FloatArray, FloatArray]:
    """Return the median and MAD of the ``window`` steps before each point (point excluded).

    Uses pandas' offset-based rolling windows, so irregular logging is handled and the
    window is in steps. NaN where fewer than ``min_points`` points precede.
    """
    series = _indexed(steps, y)
    rolling = series.rolling(_offset(window), min_periods=min_points)
    median = rolling.median()
    deviation = (series - median).abs()
    mad = deviation.rolling(_offset(window), min_periods=min_points).median()
    return median.shift(1).to_numpy(float), mad.shift(1).to_numpy(float)


def trailing_extreme(steps: IntArray, x: FloatArray, *, window: int, how: str) -> FloatArray:
    """Return the min (``how="min"``) or max of ``x`` over the ``window`` steps to each point."""
    rolling = _indexed(steps, x).rolling(_offset(window))
    return np.asarray(rolling.min() if how == "min" else rolling.max(), dtype=float)


def rolling_median(steps: IntArray, y: FloatArray, *, window: int) -> FloatArray:
    """Return the centred rolling median over ``window`` steps (NaN values ignored).

    A centred median follows any monotone trend (exactly for regular logging, away from
    the first and last half window, where the window is cut) and ignores excursions
    shorter than half the window.
    """
    rolled = _indexed(steps, y).rolling(_offset(window), center=True, min_periods=1).median()
    out = rolled.to_numpy(float)
    return np.where(np.isfinite(out), out, y)


def rolling_mean(steps: IntArray, y: FloatArray, *, window: int) -> FloatArray:
    """Return the centred rolling mean over ``window`` steps (NaN values ignored)."""
    rolled = _indexed(steps, y).rolling(_offset(window), center=True, min_periods=1).mean()
    out = rolled.to_numpy(float)
    return np.where(np.isfinite(out), out, y)


def mad_sd(y: FloatArray) -> float:
    """Return ``1.4826 * MAD`` of the finite values (NaN when there are none)."""
    y = y[np.isfinite(y)]
    if not len(y):
        return float("nan")
    return float(MAD_TO_SD * np.median(np.abs(y - np.median(y))))


def robust_sd(y: FloatArray) -> float:
    """Return a robust SD of the noise: MAD SD of the first differences / sqrt(2)."""
    diffs = np.diff(y[np.isfinite(y)])
    return mad_sd(diffs) / np.sqrt(2.0) if len(diffs) >= 2 else float("nan")


def value_at(series: MetricSeries | None, step: int) -> float:
    """Return the series' last finite value at or before ``step`` (NaN if none)."""
    if series is None:
        return float("nan")
    keep: BoolArray = np.isfinite(series.values) & (series.steps <= step)
    return float(series.values[keep][-1]) if keep.any() else float("nan")


def values_at(series: MetricSeries, steps: IntArray) -> FloatArray:
    """Return the series' last finite value at or before each step (its first value before)."""
    keep = np.isfinite(series.values)
    if not keep.any():
        return np.full(len(steps), np.nan)
    src_steps, src = series.steps[keep], series.values[keep]
    pos = np.clip(np.searchsorted(src_steps, steps, side="right") - 1, 0, len(src) - 1)
    return np.asarray(src[pos], dtype=float)


def first_nonfinite(series: MetricSeries | None, *, after_finite: bool = False) -> int | None:
    """Return the first step where a series is NaN or infinite (None if never).

    With ``after_finite``, only values after the first finite one count: a metric that is
    NaN from its first point on was never computed (a logging gap), not evidence.
    """
    if series is None or not len(series):
        return None
    finite = np.isfinite(series.values)
    bad = ~finite
    if after_finite:
        if not finite.any():
            return None
        bad &= np.arange(len(finite)) > int(np.argmax(finite))
    return int(series.steps[bad][0]) if bad.any() else None


def nonfinite_persistence(series: MetricSeries, onset: int) -> float:
    """Return the fraction of the points from ``onset`` on that are NaN or infinite."""
    after = series.values[series.steps >= onset]
    return float(np.mean(~np.isfinite(after))) if len(after) else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class Level:
    """A metric's smoothed level on its modelled scale (curve model or rolling median).

    Parameters
    ----------
    steps, level : ndarray
        Steps and trend level (``log10`` for positive metrics), finite points only.
    log_scale : bool
        Whether the level is ``log10`` of the metric.
    used_fallback : bool
        True when the curve model was missing or failed and a centred rolling median of
        the raw values stands in for it.
    """

    steps: IntArray
    level: FloatArray
    log_scale: bool
    used_fallback: bool

    def at(self, steps: IntArray) -> FloatArray:
        """Return the level interpolated at ``steps`` (held constant beyond the ends)."""
        level: FloatArray = np.interp(steps.astype(float), self.steps.astype(float), self.level)
        return level


_MODELLED = ("smooth_trend", "smooth_trend_mle", "constant")


def level_of(
    run: ModelledRun, series: MetricSeries, *, fallback_frac: float = 0.03
) -> Level | None:
    """Return the smoothed level of ``series`` (None with fewer than 3 finite points).

    The curve model is used when it exists and was fitted by the state-space model (or
    the metric is constant); otherwise (no curve, a failed fit, too few points) a
    centred rolling median of the raw values over ``fallback_frac`` of the run (at least
    5 logged points) stands in, and ``used_fallback`` says so.
    """
    curve = run.curves.get(series.name)
    if curve is not None and curve.method in _MODELLED:
        ok = np.isfinite(curve.observed) & np.isfinite(curve.level)
        if ok.sum() >= 3:
            return Level(curve.steps[ok], curve.level[ok], curve.log_scale, used_fallback=False)
    steps, values = finite_part(series)
    if len(steps) < 3:
        return None
    y, is_log = log_scale(values)
    level = rolling_median(steps, y, window=window_steps(steps, frac=fallback_frac))
    return Level(steps, level, is_log, used_fallback=True)
