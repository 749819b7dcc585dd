"""`find_changepoints`: where a curve's trend changes (ruptures adapter, BIC evidence)."""

from __future__ import annotations

import math

import numpy as np

from dynamics_stats.core.config import ChangepointConfig
from dynamics_stats.core.errors import ModelFitError
from dynamics_stats.core.types import FloatArray
from dynamics_stats.curves._binning import bin_series
from dynamics_stats.curves.types import Changepoint, SmoothedCurve

__all__ = ["find_changepoints"]

_MIN_POINTS = 12
_MAX_SEARCH_POINTS = 100  # the piecewise-linear cost is quadratic: search on <= 100 bins
_PARAMS_PER_SPLIT = 3  # a location plus an intercept and a slope for the new segment


def _robust_sigma(y: FloatArray) -> float:
    d = np.diff(y)
    mad = float(np.median(np.abs(d - np.median(d)))) if len(d) else 0.0
    return max(1.4826 * mad / math.sqrt(2.0), 1e-9 * (np.abs(y).max() + 1e-12))


def _rss_line(x: FloatArray, y: FloatArray) -> float:
    if len(y) < 3:
        return 0.0
    coef = np.polyfit(x, y, 1)
    return float(np.sum((y - np.polyval(coef, x)) ** 2))


def _delta_bic(x: FloatArray, y: FloatArray, cut: int, sigma: float) -> float:
    """BIC(one line over the span) - BIC(two lines split at ``cut``), Gaussian noise sigma."""
    one = _rss_line(x, y)
    two = _rss_line(x[:cut], y[:cut]) + _rss_line(x[cut:], y[cut:])
    return (one - two) / sigma**2 - _PARAMS_PER_SPLIT * math.log(len(y))


def _search(y: FloatArray, sigma: float, min_size: int, config: ChangepointConfig) -> list[int]:
    import ruptures as rpt

    penalty = config.penalty_factor * _PARAMS_PER_SPLIT * sigma**2 * math.log(len(y))
    try:
        algo = rpt.Binseg(model="linear", min_size=min_size, jump=1)
        signal = np.column_stack([y, np.arange(len(y), dtype=float), np.ones(len(y))])
        breaks = algo.fit(signal).predict(pen=penalty)
    except (ValueError, rpt.exceptions.BadSegmentationParameters) as err:
        raise ModelFitError(f"changepoint search failed on {len(y)} points: {err}") from err
    return [b for b in breaks if b < len(y)][: config.max_changepoints]


def find_changepoints(
    curve: SmoothedCurve, *, config: ChangepointConfig
) -> tuple[Changepoint, ...]:
    """Find the steps where a curve's trend changes, each with a posterior probability.

    Parameters
    ----------
    curve : SmoothedCurve
        A smoothed curve; the search runs on its binned observed values (modelled scale),
        re-binned to at most 100 points.
    config : ChangepointConfig
        Number cap, minimum segment length and penalty factor.

    Returns
    -------
    tuple of Changepoint
        Sorted by step; empty for fewer than 12 finite points.

    Raises
    ------
    ModelFitError
        If ruptures fails on the data.

    Notes
    -----
    Binary segmentation (ruptures ``Binseg``) with a piecewise-linear cost: segments are
    straight lines, so a steady decay is not cut into steps. The penalty is BIC-like,
    ``3 sigma^2 log(n)`` for a location, an intercept and a slope, with ``sigma`` a robust
    estimate from first differences. For each changepoint, ``delta_bic`` compares one line
    against two over the neighbouring segments, and ``probability =
    1 / (1 + exp(-delta_bic / 2))`` is the BIC approximation of the posterior of the split
    against no split under equal prior odds.
    """
    finite = np.isfinite(curve.observed)
    steps, y, width = bin_series(
        curve.steps[finite], curve.observed[finite], max_points=_MAX_SEARCH_POINTS
    )
    width = max(width, curve.bin_width_steps)
    if len(y) < _MIN_POINTS or config.max_changepoints == 0:
        return ()
    sigma = _robust_sigma(y)
    span = max(int(steps[-1] - steps[0]), 1)
    min_size = max(int(round(config.min_size_frac * span / max(width, 1.0))), 3)
    if 2 * min_size > len(y):
        return ()
    breaks = sorted(_search(y, sigma, min_size, config))
    bounds = [0, *breaks, len(y)]
    x = np.arange(len(y), dtype=float)
    found = []
    for i, cut in enumerate(breaks, start=1):
        lo, hi = bounds[i - 1], bounds[i + 1]
        delta = _delta_bic(x[lo:hi], y[lo:hi], cut - lo, sigma)
        probability = 1.0 / (1.0 + math.exp(-min(max(delta / 2.0, -700.0), 700.0)))
        found.append(
            Changepoint(
                metric=curve.metric,
                step=int(steps[cut]),
                probability=probability,
                delta_bic=float(delta),
                level_before=float(np.mean(y[lo:cut])),
                level_after=float(np.mean(y[cut:hi])),
            )
        )
    return tuple(found)
