"""Conditional tests for level-valued parameters: the objective net of the other parameters."""

from __future__ import annotations

import warnings

import numpy as np

from dynamics_stats.core.types import FloatArray
from dynamics_stats.sweeps._encoding import EncodedParameter
from dynamics_stats.sweeps.importance import make_forest

__all__ = ["residual_objective"]


def residual_objective(
    params: tuple[EncodedParameter, ...],
    y: FloatArray,
    index: int,
    *,
    seed: int,
    n_estimators: int,
) -> FloatArray | None:
    """Return ``y`` minus an out-of-bag forest prediction from every parameter but ``index``.

    Parameters
    ----------
    params : tuple of EncodedParameter
        All encoded parameters.
    y : ndarray of float
        Objective per run (NaN when missing).
    index : int
        Position in ``params`` of the parameter left out of the model.
    seed : int
        Seed of the forest.
    n_estimators : int
        Trees in the forest.

    Returns
    -------
    ndarray of float or None
        Residual per run (NaN where ``y`` is missing or the run was never out of bag); None
        when ``params`` holds no other parameter.

    Notes
    -----
    The forest never sees the left-out parameter and each run's prediction comes only from
    trees that did not train on it, so when the parameter has no effect (and was assigned
    independently of the others, as in grid or random search) the residual is independent of
    it and a test on the residual keeps its level; when other parameters dominate the
    objective, removing their share raises the power to see a small categorical effect.
    """
    others = [p.design for i, p in enumerate(params) if i != index]
    if not others:
        return None
    rows = np.isfinite(y)
    forest = make_forest(n_estimators, seed, int(rows.sum())).set_params(oob_score=True)
    with warnings.catch_warnings():
        # "Some inputs do not have OOB scores": those runs get NaN below and are left out.
        warnings.simplefilter("ignore", UserWarning)
        forest.fit(np.column_stack(others)[rows], y[rows])
    residual = np.full(y.size, np.nan)
    residual[rows] = y[rows] - forest.oob_prediction_
    return residual
