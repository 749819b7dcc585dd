"""Find upward excursions that come back down (spikes), shared by detectors."""

from __future__ import annotations

import numpy as np

from dynamics_stats.core.types import BoolArray, FloatArray, IntArray
from dynamics_stats.detectors._common import MAD_TO_SD, trailing_median_mad

__all__ = ["find_spikes"]

_MAX_EXCURSIONS = 5000


def _recovered(
    steps: IntArray, y: FloatArray, ceiling: FloatArray, candidates: IntArray, recovery: int
) -> BoolArray:
    """Whether each candidate's loss is back under its own pre-spike ceiling within ``recovery``.

    The ceiling is fixed at the spike (its trailing median + 3 SD): a level shift never comes
    back under it, a spike does.
    """
    out = np.zeros(len(candidates), dtype=bool)
    ends = np.searchsorted(steps, steps[candidates] + recovery, side="right")
    for k, (i, end) in enumerate(zip(candidates, ends, strict=True)):
        later = y[i + 1 : end]
        out[k] = bool(len(later)) and bool(np.any(later <= ceiling[i]))
    return out


def find_spikes(
    steps: IntArray, y: FloatArray, *, window: int, z_threshold: float
) -> tuple[IntArray, FloatArray, FloatArray, float]:
    """Return the positions, robust z-scores and heights of recovered upward spikes.

    Parameters
    ----------
    steps : ndarray of int64
        Increasing steps of finite values.
    y : ndarray of float64
        Values (log10 for positive losses).
    window : int
        Trailing window in steps for the local median and MAD; also the recovery window.
    z_threshold : float
        Robust z above which a point is a spike candidate.

    Returns
    -------
    positions, z, heights : ndarrays
        One entry per spike that recovered within ``window`` steps; the height is
        ``y - local median``.
    null_z : float
        The largest downward robust z (``max(-z)``): how far the noise alone reaches. Noise
        of a log loss is roughly symmetric, spikes are not, so upward excursions that do
        not stand out beyond it are heavy-tailed noise rather than spikes.
    """
    base, mad = trailing_median_mad(steps, y, window=window)
    sd = MAD_TO_SD * mad
    floor = 1e-3 * np.nanmedian(np.abs(y - np.nanmedian(y))) + 1e-12
    z = (y - base) / np.maximum(sd, floor)
    candidates = np.flatnonzero(np.isfinite(z) & (z > z_threshold))
    keep = np.zeros(0, dtype=np.int64)
    if len(candidates):
        # a run of consecutive candidate points is one excursion: judge it at its highest point
        groups = np.split(candidates, np.flatnonzero(np.diff(candidates) > 1) + 1)
        peaks = np.array([g[np.argmax(z[g])] for g in groups[:_MAX_EXCURSIONS]], dtype=np.int64)
        keep = peaks[_recovered(steps, y, base + 3.0 * sd, peaks, window)]
    finite = z[np.isfinite(z)]
    null_z = float(max(-finite.min(), 0.0)) if len(finite) else 0.0
    return keep, z[keep], (y - base)[keep], null_z
