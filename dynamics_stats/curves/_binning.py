"""Robust binning of long series in equal windows of steps."""

from __future__ import annotations

import numpy as np

from dynamics_stats.core.types import FloatArray, IntArray

__all__ = ["bin_series"]


def bin_series(
    steps: IntArray, values: FloatArray, *, max_points: int
) -> tuple[IntArray, FloatArray, float]:
    """Aggregate a series into at most ``max_points`` equal-width bins of steps.

    Each bin holds the median of its finite values (NaN when it has none): a robust
    summary that ignores isolated spikes. Series with at most ``max_points`` points are
    returned unchanged.

    Parameters
    ----------
    steps : ndarray of int64
        Increasing steps.
    values : ndarray of float64
        Values (non-finite values are ignored inside a bin).
    max_points : int
        Maximum number of bins.

    Returns
    -------
    bin_steps : ndarray of int64
        Centre step of each bin.
    bin_values : ndarray of float64
        Median of each bin's finite values.
    bin_width : float
        Width of a bin in steps (the median logging interval when not binned).

    Notes
    -----
    Cost is O(n log n) from one sort by bin and value; 1M points take about 0.1 s.

    Examples
    --------
    >>> s, v, w = bin_series(np.arange(10), np.arange(10.0), max_points=5)
    >>> v.tolist(), w
    ([0.5, 2.5, 4.5, 6.5, 8.5], 2.0)
    """
    n = len(steps)
    if n <= max_points:
        width = float(np.median(np.diff(steps))) if n > 1 else 1.0
        return steps.copy(), values.astype(float).copy(), width
    first, last = int(steps[0]), int(steps[-1])
    width = max((last - first + 1) / max_points, 1.0)
    index = np.minimum(((steps - first) / width).astype(np.int64), max_points - 1)
    finite = np.isfinite(values)
    idx, vals = index[finite], values[finite]
    span = float(vals.max() - vals.min()) if len(vals) else 0.0
    key = idx + (vals - (vals.min() if len(vals) else 0.0)) / (span * 1.001 + 1e-300)
    order = np.argsort(key, kind="quicksort")  # one float sort: by bin, then by value
    idx, vals = idx[order], vals[order]
    counts = np.bincount(idx, minlength=max_points)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    medians = np.full(max_points, np.nan)
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    medians[has] = 0.5 * (vals[lo] + vals[hi])
    centres = (first + (np.arange(max_points) + 0.5) * width).astype(np.int64)
    occupied = np.bincount(index, minlength=max_points) > 0
    return centres[occupied], medians[occupied], float(width)
