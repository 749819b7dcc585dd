"""Pairwise interactions of parameters on the objective, from the forests' partial dependence."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.sweeps._encoding import EncodedParameter
from dynamics_stats.sweeps.effects import Interaction
from dynamics_stats.sweeps.importance import ImportanceEstimate

__all__ = ["find_interactions"]

#: Grid points per parameter in the two-way partial dependence.
PAIR_GRID = 5
#: Background runs per forest for the two-way partial dependence.
PAIR_BACKGROUND = 50


def _coarse_grid(param: EncodedParameter) -> tuple[FloatArray, FloatArray]:
    """At most `PAIR_GRID` grid points; each dropped point's weight goes to its nearest kept one."""
    n_points = len(param.grid_weights)
    if n_points <= PAIR_GRID or param.kind == "categorical":
        return param.grid_design, param.grid_weights
    keep = np.unique(np.linspace(0, n_points - 1, PAIR_GRID).round().astype(int))
    nearest = np.abs(np.arange(n_points)[:, None] - keep[None, :]).argmin(axis=1)
    weights = np.bincount(nearest, weights=param.grid_weights, minlength=keep.size)
    return param.grid_design[keep], np.asarray(weights, dtype=np.float64)


def _pair_rows(
    background: FloatArray, grids: tuple[FloatArray, FloatArray], cols: tuple[IntArray, IntArray]
) -> FloatArray:
    """Background rows with the pair set to every point of the two grids (a-major order)."""
    stacked = []
    for point_a in grids[0]:
        for point_b in grids[1]:
            grid_rows = background.copy()
            grid_rows[:, cols[0]] = point_a
            grid_rows[:, cols[1]] = point_b
            stacked.append(grid_rows)
    return np.vstack(stacked)


def _decompose(joint: FloatArray, w_a: FloatArray, w_b: FloatArray) -> tuple[float, float]:
    """Weighted variance of the centred two-way dependence and of its interaction residual."""
    weights = np.outer(w_a, w_b)
    joint = joint - (weights * joint).sum()
    main_a, main_b = joint @ w_b, w_a @ joint
    residual = joint - main_a[:, None] - main_b[None, :]
    return float((weights * joint**2).sum()), float((weights * residual**2).sum())


def _pair_statistics(
    params: tuple[EncodedParameter, ...],
    estimate: ImportanceEstimate,
    pairs: list[tuple[int, int]],
) -> FloatArray:
    """(n_pairs, 2): mean over fold forests of H^2 and of the interaction variance share."""
    grids = [_coarse_grid(p) for p in params]
    out = np.zeros((len(pairs), 2))
    for forest, background in zip(estimate.folds.forests, estimate.folds.backgrounds, strict=True):
        rows = background[:PAIR_BACKGROUND]
        columns = estimate.folds.columns
        blocks = [
            _pair_rows(rows, (grids[i][0], grids[j][0]), (columns[i], columns[j])) for i, j in pairs
        ]
        predictions = forest.predict(np.vstack([background, *blocks]))
        total = float(np.var(predictions[: len(background)]))
        start = len(background)
        for k, (i, j) in enumerate(pairs):
            size = len(grids[i][1]) * len(grids[j][1]) * len(rows)
            joint = predictions[start : start + size].reshape(len(grids[i][1]), -1, len(rows))
            start += size
            joint_var, residual_var = _decompose(joint.mean(axis=2), grids[i][1], grids[j][1])
            out[k, 0] += residual_var / joint_var if joint_var > 0 else 0.0
            out[k, 1] += min(1.0, residual_var / total) if total > 0 else 0.0
    return out / len(estimate.folds.forests)


def find_interactions(
    params: tuple[EncodedParameter, ...],
    estimate: ImportanceEstimate,
    *,
    max_parameters: int = 5,
    max_interactions: int = 5,
) -> tuple[Interaction, ...]:
    """Return the strongest pairwise interactions among the most important parameters.

    Parameters
    ----------
    params : tuple of EncodedParameter
        The parameters the importance model was fitted on (same order).
    estimate : ImportanceEstimate
        The fitted fold forests.
    max_parameters : int, default=5
        Only pairs among this many most important parameters are examined.
    max_interactions : int, default=5
        Most interactions returned, strongest (largest variance share) first.

    Returns
    -------
    tuple of Interaction

    Notes
    -----
    For a pair (a, b) the two-way partial dependence PD_ab is evaluated on a grid weighted by
    the empirical distribution of each parameter and centred; its main effects are the
    weighted marginals and the interaction is the residual. Friedman's H^2 is the residual's
    share of the variance of PD_ab; ``variance_frac`` is its share of the prediction variance
    (the second-order term of a functional ANOVA under independent parameters).
    """
    order = np.argsort(-estimate.importance)[:max_parameters]
    pairs = list(combinations(sorted(order.tolist()), 2))
    if not pairs:
        return ()
    statistics = _pair_statistics(params, estimate, pairs)
    found = [
        Interaction((params[i].name, params[j].name), float(h_stat), float(frac))
        for (i, j), (h_stat, frac) in zip(pairs, statistics, strict=True)
    ]
    found.sort(key=lambda item: -item.variance_frac)
    return tuple(found[:max_interactions])
