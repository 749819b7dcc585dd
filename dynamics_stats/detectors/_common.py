"""Helpers shared by detectors: transforms, windows in steps, rolling robust statistics.

Every window is measured in steps, never in logged points, so a run logged every step and
the same run logged every ten steps give the same statistics (up to sampling noise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import BoolArray, FloatArray, IntArray

__all__ = [
    "MAD_TO_SD",
    "MAX_POINTS",
    "finite_part",
    "log_scale",
    "robust_sd",
    "rolling_median",
    "run_span",
    "trailing_median_mad",
    "value_at",
    "window_steps",
]

#: Multiply a median absolute deviation by this to estimate a Gaussian standard deviation.
MAD_TO_SD = 1.4826


#: Detectors work on at most this many points; longer series are reduced by binning.
MAX_POINTS = 20_000


def _bin_max(steps: IntArray, values: FloatArray, n_bins: int) -> tuple[IntArray, FloatArray]:
    """Keep each bin's largest value at its own step (spikes survive the reduction)."""
    width = (int(steps[-1]) - int(steps[0]) + 1) / n_bins
    index = np.minimum(((steps - steps[0]) / width).astype(np.int64), n_bins - 1)
    order = np.lexsort((-values, index))
    first = np.flatnonzero(np.diff(index[order], prepend=-1))
    pick = np.sort(order[first])
    return steps[pick], values[pick]


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
    keep : {"median", "max"}, default="median"
        What a bin keeps: its median (levels, volatility) or its largest point (spikes).
    """
    finite = np.isfinite(series.values)
    steps, values = series.steps[finite], series.values[finite]
    if len(steps) <= max_points:
        return steps, values
    if keep == "max":
        return _bin_max(steps, values, max_points)
    from dynamics_stats.curves import bin_series

    bin_steps, medians, _ = bin_series(steps, values, max_points=max_points)
    ok = np.isfinite(medians)
    return bin_steps[ok], medians[ok]


def log_scale(values: FloatArray) -> tuple[FloatArray, bool]:
    """Return ``log10(values)`` when every finite value is positive, else the values.

    Working in decades makes statistics invariant to multiplying the metric by a constant.

    Returns
    -------
    (ndarray, bool)
        Transformed values (non-finite stay NaN) and whether the log was taken.

    Examples
    --------
    >>> log_scale(np.array([1.0, 10.0, 100.0]))[0].tolist()
    [0.0, 1.0, 2.0]
    """
    finite = values[np.isfinite(values)]
    if len(finite) and np.all(finite > 0):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(np.isfinite(values) & (values > 0), np.log10(np.abs(values)), np.nan)
        return out, True
    return np.where(np.isfinite(values), values, np.nan), False


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
        Lower bound in units of the median logging interval.
    """
    interval = float(np.median(np.diff(steps))) if len(steps) > 1 else 1.0
    return max(int(round(frac * run_span(steps))), int(np.ceil(min_points * interval)), 1)


def _as_time_series(steps: IntArray, y: FloatArray) -> pd.Series:
    index = pd.to_timedelta(np.asarray(steps, np.int64), unit="ns")
    return pd.Series(y, index=index)


def trailing_median_mad(
    steps: IntArray, y: FloatArray, *, window: int, min_points: int = 3
) -> tuple[FloatArray, FloatArray]:
    """Return the median and MAD of the ``window`` steps before each point (point excluded).

    Uses pandas' offset-based rolling windows, so irregular logging is handled and the
    window is in steps. NaN where fewer than ``min_points`` points precede.
    """
    series = _as_time_series(steps, y)
    rolling = series.rolling(pd.Timedelta(int(window), unit="ns"), min_periods=min_points)
    median = rolling.median().shift(1).to_numpy(float)
    deviation = (series - rolling.median()).abs()
    mad = deviation.rolling(pd.Timedelta(int(window), unit="ns"), min_periods=min_points)
    return median, mad.median().shift(1).to_numpy(float)


def rolling_median(steps: IntArray, y: FloatArray, *, window: int) -> FloatArray:
    """Return a centred rolling median over ``window`` steps (NaN values ignored)."""
    series = _as_time_series(steps, y)
    half = pd.Timedelta(int(window // 2), unit="ns")
    shifted = series.copy()
    shifted.index = series.index - half
    trailing = series.rolling(pd.Timedelta(int(window), unit="ns"), min_periods=1).median()
    # the trailing median ending at t + window/2 is the centred median at t
    ahead = trailing.reindex(series.index + half, method="ffill").to_numpy(float)
    return np.where(np.isfinite(ahead), ahead, series.to_numpy(float))


def robust_sd(y: FloatArray) -> float:
    """Return a robust standard deviation of the first differences / sqrt(2) (NaN ignored)."""
    diffs = np.diff(y[np.isfinite(y)])
    if len(diffs) < 2:
        return float("nan")
    return float(MAD_TO_SD * np.median(np.abs(diffs - np.median(diffs))) / np.sqrt(2.0))


def value_at(series: MetricSeries | None, step: int) -> float:
    """Return the series' last finite value at or before ``step`` (NaN if none)."""
    if series is None:
        return float("nan")
    keep: BoolArray = np.isfinite(series.values) & (series.steps <= step)
    if not keep.any():
        return float("nan")
    return float(series.values[keep][-1])
