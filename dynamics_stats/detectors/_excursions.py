"""Find short excursions that come back (spikes), up and down, shared by detectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.detectors._common import (
    MAD_TO_SD,
    mad_sd,
    median_interval,
    rolling_median,
    trailing_median_mad,
)

__all__ = ["Excursions", "find_excursions"]

_MAX_GROUPS = 2000  # the strongest excursions examined per direction
_NOISE_POINTS = 30  # the noise SD before a point is estimated from at least this many points


@dataclass(frozen=True, slots=True, eq=False)
class Excursions:
    """Upward excursions that were short and recovered, and the downward null.

    Parameters
    ----------
    peaks, starts : ndarray of int64
        Positions of each spike's highest point and of its first elevated point.
    z : ndarray of float64
        Robust z-score of each peak against the noise before it.
    heights : ndarray of float64
        Peak minus the level before the spike, in units of ``y``.
    n_unrecovered : int
        Upward excursions past the threshold that did not come back (level shifts).
    n_wide : int
        Upward excursions too wide to be spikes (bumps): more than ``max_width`` steps
        from the last point below half height before the peak to the first one after.
    null_z : float
        Largest z of the downward excursions that pass the same tests, searched from
        half the threshold up (0 if none): how far symmetric noise alone reaches here.
    n_null : int
        Number of such downward excursions.
    """

    peaks: IntArray
    starts: IntArray
    z: FloatArray
    heights: FloatArray
    n_unrecovered: int
    n_wide: int
    null_z: float
    n_null: int


@dataclass(frozen=True, slots=True, eq=False)
class _Frame:
    """A series with its trend and noise scale, oriented so excursions point up."""

    steps: IntArray
    y: FloatArray
    base: FloatArray  # centred rolling median: the trend
    prior: FloatArray  # trailing median: the level before each point
    spread: FloatArray  # noise SD before each point

    def z(self) -> FloatArray:
        """Return the smaller of the z-scores against the trend and against the past."""
        return np.minimum(self.y - self.base, self.y - self.prior) / self.spread

    def flipped(self) -> _Frame:
        """Return the frame upside down (downward excursions point up)."""
        return _Frame(self.steps, -self.y, -self.base, -self.prior, self.spread)


def _groups(z: FloatArray, threshold: float) -> list[IntArray]:
    """Return the runs of consecutive points above ``threshold``, strongest first."""
    above = np.flatnonzero(z > threshold)
    if not len(above):
        return []
    groups = np.split(above, np.flatnonzero(np.diff(above) > 1) + 1)
    groups.sort(key=lambda g: -float(z[g].max()))
    return groups[:_MAX_GROUPS]


def _judge(frame: _Frame, group: IntArray, max_width: int, recovery: int) -> tuple[str, int]:
    """Return the verdict ("spike", "wide" or "unrecovered") and where the spike ended."""
    steps, y = frame.steps, frame.y
    peak = int(group[np.argmax(y[group])])
    pre = float(frame.prior[group[0]])
    half = pre + 0.5 * (y[peak] - pre)
    first = int(np.searchsorted(steps, steps[peak] - max_width))
    last = int(np.searchsorted(steps, steps[peak] + max_width, side="right"))
    below_before = np.flatnonzero(y[first:peak] <= half)
    below_after = np.flatnonzero(y[peak + 1 : last] <= half)
    if group[0] == 0 or not len(below_before) or not len(below_after):
        return "wide", peak
    if steps[peak + 1 + below_after[0]] - steps[first + below_before[-1]] > max_width:
        return "wide", peak
    stop = int(np.searchsorted(steps, steps[peak] + recovery, side="right"))
    later = y[peak + 1 : stop] - pre
    if not np.any(later <= max(3.0 * frame.spread[peak], 0.5 * (half - pre))):
        return "unrecovered", peak
    # the spike lasts until the series is back within noise (its tail belongs to it)
    calm = np.flatnonzero(later <= 3.0 * frame.spread[peak])
    return "spike", peak + 1 + int(calm[0]) if len(calm) else stop


def _scan(
    frame: _Frame, threshold: float, max_width: int, recovery: int
) -> tuple[list[tuple[int, int]], dict[str, int]]:
    """Return the spikes (peak, start) of an oriented frame and the failures by test.

    Candidates are judged strongest first; one whose peak lies inside an accepted spike
    (between its start and its return to the prior level) is part of that spike's tail.
    """
    z = frame.z()
    found: list[tuple[int, int]] = []
    spans: list[tuple[int, int]] = []
    failed = {"wide": 0, "unrecovered": 0}
    for group in _groups(z, threshold):
        peak = int(group[np.argmax(frame.y[group])])
        if any(a <= peak <= b for a, b in spans):
            continue
        verdict, end = _judge(frame, group, max_width, recovery)
        if verdict == "spike":
            found.append((peak, int(group[0])))
            spans.append((int(group[0]), end))
        else:
            failed[verdict] += 1
    return sorted(found), failed


def find_excursions(  # noqa: PLR0913 - keyword-only options of one algorithm
    steps: IntArray,
    y: FloatArray,
    *,
    window: int,
    z_threshold: float,
    max_width: int,
    recovery_steps: int,
) -> Excursions:
    """Return the upward spikes of ``y`` and the largest comparable downward excursion.

    Parameters
    ----------
    steps : ndarray of int64
        Increasing steps of finite values.
    y : ndarray of float64
        Values (``log10`` of a positive loss).
    window : int
        Window in steps of the centred rolling median (the trend), of the trailing median
        (the level before each point) and of the trailing MAD of the residuals (the noise
        before each point, over at least 30 logged points).
    z_threshold : float
        Robust z a point must exceed, against both the trend and the level before it, to
        start an excursion.
    max_width : int
        Largest full width at half height, in steps, of a spike (height measured from the
        level before it).
    recovery_steps : int
        A spike has recovered when, within this many steps after its peak, the series
        comes back to the level before it: within three noise SDs or a quarter of the
        spike's height of it, whichever is larger.

    Returns
    -------
    Excursions

    Notes
    -----
    The trend is a centred rolling median, which follows any monotone curve exactly (so
    steady falls, LR-decay drops and runaway growth leave no residual) and ignores
    excursions shorter than half the window; the z-score of a point is the smaller of its
    z against the trend and against the trailing median (a point just before a sudden
    drop sits above the centred median but not above its past). The noise SD at a point
    is ``1.4826 x`` the MAD of the residuals before it, floored at a quarter of the run's
    overall residual MAD SD. Downward excursions pass the same tests on ``-y``; since
    per-step noise of a log loss is roughly symmetric while spikes are not, their largest
    z says how far heavy-tailed noise reaches in this run. Cost: a few pandas rolling
    passes plus a local search around each candidate (at most 2000 per direction).
    """
    base = rolling_median(steps, y, window=window)
    resid = y - base
    prior, _ = trailing_median_mad(steps, y, window=window, min_points=5)
    noise_window = max(window, int(_NOISE_POINTS * median_interval(steps)))
    _, mad = trailing_median_mad(steps, resid, window=noise_window, min_points=_NOISE_POINTS // 2)
    overall = mad_sd(resid)
    floor = 0.25 * overall if np.isfinite(overall) and overall > 0 else 1e-12
    scale = np.where(np.isfinite(mad), MAD_TO_SD * mad, overall)
    spread = np.where(np.isfinite(scale), np.maximum(scale, floor), floor)
    frame = _Frame(steps, y, base, np.where(np.isfinite(prior), prior, base), spread)
    up, failed = _scan(frame, z_threshold, max_width, recovery_steps)
    down, _ = _scan(frame.flipped(), z_threshold / 2, max_width, recovery_steps)
    z, z_down = np.clip(frame.z(), -1e3, 1e3), np.clip(frame.flipped().z(), -1e3, 1e3)
    peaks = np.array([p for p, _ in up], dtype=np.int64)
    starts = np.array([s for _, s in up], dtype=np.int64)
    heights = y[peaks] - frame.prior[starts]
    return Excursions(
        peaks=peaks,
        starts=starts,
        z=z[peaks],
        heights=np.asarray(heights, dtype=float),
        n_unrecovered=failed["unrecovered"],
        n_wide=failed["wide"],
        null_z=max((float(z_down[p]) for p, _ in down), default=0.0),
        n_null=len(down),
    )
