"""Parameter importance: random-forest permutation importance and main-effect variance shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold

from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.sweeps._encoding import EncodedParameter

__all__ = [
    "MIN_RUNS_FOR_MODEL",
    "FittedFolds",
    "ImportanceEstimate",
    "estimate_importance",
    "make_forest",
]

#: Fewest runs with a finite objective for which a forest is fitted.
MIN_RUNS_FOR_MODEL = 12
#: Largest bootstrap sample of one tree: caps the cost of big sweeps (subsampled forest).
MAX_TREE_ROWS = 500
#: Background runs over which partial dependence is averaged.
N_BACKGROUND = 100


@dataclass(frozen=True)
class FittedFolds:
    """The fold forests, the design matrix and each parameter's design columns."""

    forests: tuple[RandomForestRegressor, ...]
    backgrounds: tuple[FloatArray, ...]
    columns: tuple[IntArray, ...]


@dataclass(frozen=True)
class ImportanceEstimate:
    """Per-parameter importance and main-effect variance share, each with a fold interval.

    Arrays are aligned with the parameters passed in; intervals have shape (P, 2).
    """

    importance: FloatArray
    importance_interval: FloatArray
    variance_frac: FloatArray
    variance_frac_interval: FloatArray
    r2_heldout: float
    n_folds: int
    n_estimators: int
    n_repeats: int
    folds: FittedFolds


def make_forest(n_estimators: int, seed: int, n_rows: int) -> RandomForestRegressor:
    """Return the forest used everywhere in sweeps (each tree sees at most `MAX_TREE_ROWS`)."""
    return RandomForestRegressor(
        n_estimators=n_estimators,
        min_samples_leaf=3,
        max_samples=None if n_rows <= MAX_TREE_ROWS else MAX_TREE_ROWS,
        random_state=seed,
        n_jobs=1,
    )


def _design(params: tuple[EncodedParameter, ...]) -> tuple[FloatArray, tuple[IntArray, ...]]:
    blocks, columns, start = [], [], 0
    for param in params:
        width = param.design.shape[1]
        blocks.append(param.design)
        columns.append(np.arange(start, start + width))
        start += width
    return np.column_stack(blocks), tuple(columns)


def _permutation_drop(  # noqa: PLR0913 - one internal step
    forest: RandomForestRegressor,
    x_test: FloatArray,
    y_test: FloatArray,
    columns: tuple[IntArray, ...],
    *,
    n_repeats: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, float]:
    """Held-out R^2 and, per parameter, its mean drop when the parameter's columns are shuffled."""
    variance = float(np.var(y_test))
    base_mse = float(np.mean((forest.predict(x_test) - y_test) ** 2))
    if variance <= 0.0:  # a constant held-out fold: no variance to explain
        return np.zeros(len(columns)), float("nan")
    stacked = []
    for cols in columns:
        for _ in range(n_repeats):
            shuffled = x_test.copy()
            shuffled[:, cols] = x_test[rng.permutation(len(x_test))][:, cols]
            stacked.append(shuffled)
    predictions = forest.predict(np.vstack(stacked)).reshape(len(columns), n_repeats, -1)
    mse = ((predictions - y_test) ** 2).mean(axis=2)
    drop = (mse - base_mse).mean(axis=1) / variance
    return drop, 1.0 - base_mse / variance


def main_effect_fracs(
    forest: RandomForestRegressor,
    background: FloatArray,
    params: tuple[EncodedParameter, ...],
    columns: tuple[IntArray, ...],
) -> FloatArray:
    """Weighted variance of each parameter's partial dependence over the prediction variance."""
    stacked = []
    for param, cols in zip(params, columns, strict=True):
        for point in param.grid_design:
            grid_rows = background.copy()
            grid_rows[:, cols] = point
            stacked.append(grid_rows)
    predictions = forest.predict(np.vstack(stacked)).reshape(-1, len(background)).mean(axis=1)
    total = float(np.var(forest.predict(background)))
    fracs, start = np.zeros(len(params)), 0
    for i, param in enumerate(params):
        pd_values = predictions[start : start + len(param.grid_weights)]
        start += len(param.grid_weights)
        centred = pd_values - param.grid_weights @ pd_values
        fracs[i] = param.grid_weights @ centred**2 / total if total > 0 else 0.0
    return np.clip(fracs, 0.0, 1.0)


def _t_interval(per_fold: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
    n_folds = per_fold.shape[0]
    half = stats.t.ppf(1 - alpha / 2, n_folds - 1) * per_fold.std(axis=0, ddof=1) / np.sqrt(n_folds)
    mean = per_fold.mean(axis=0)
    return mean, np.column_stack([mean - half, mean + half])


def estimate_importance(  # noqa: PLR0913 - documented keyword options
    params: tuple[EncodedParameter, ...],
    y: FloatArray,
    *,
    alpha: float,
    seed: int,
    n_estimators: int = 100,
    n_repeats: int = 5,
) -> ImportanceEstimate | None:
    """Cross-validated permutation importance and main-effect shares of ``params`` on ``y``.

    Parameters
    ----------
    params : tuple of EncodedParameter
        Encoded parameters (rows aligned with ``y``).
    y : ndarray of float
        Objective per run; runs where it is not finite are left out.
    alpha : float
        One minus the coverage of the fold intervals.
    seed : int
        Seed of the folds, the forests and the permutations.
    n_estimators : int, default=100
        Trees per forest.
    n_repeats : int, default=5
        Permutations per parameter and fold.

    Returns
    -------
    ImportanceEstimate or None
        None when fewer than `MIN_RUNS_FOR_MODEL` runs have a finite objective.

    Notes
    -----
    A random forest is fitted on each of K folds' training runs (K = 5, or 3 below 30 runs).
    Importance is the drop of held-out R^2 when a parameter's design columns (value and
    missing indicator, or its one-hot levels) are shuffled together. The main-effect share
    is the functional-ANOVA first-order term: the variance of the parameter's partial
    dependence, weighted by the empirical distribution of its values, over the variance of the
    forest's predictions. Intervals are mean +/- t * sd / sqrt(K) over folds; folds share
    training runs, so they are approximate.
    """
    rows = np.isfinite(y)
    if rows.sum() < MIN_RUNS_FOR_MODEL:
        return None
    design, columns = _design(params)
    x, target = design[rows], y[rows]
    n_folds = 5 if len(target) >= 30 else 3
    rng = np.random.default_rng(seed)
    drops, fracs, r2s, forests, backgrounds = [], [], [], [], []
    splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(x)):
        forest = make_forest(n_estimators, seed + fold, len(train)).fit(x[train], target[train])
        drop, r2 = _permutation_drop(
            forest, x[test], target[test], columns, n_repeats=n_repeats, rng=rng
        )
        background = x[rng.choice(len(x), size=min(N_BACKGROUND, len(x)), replace=False)]
        drops.append(drop)
        r2s.append(r2)
        fracs.append(main_effect_fracs(forest, background, params, columns))
        forests.append(forest)
        backgrounds.append(background)
    importance, importance_interval = _t_interval(np.array(drops), alpha)
    frac, frac_interval = _t_interval(np.array(fracs), alpha)
    return ImportanceEstimate(
        importance=importance,
        importance_interval=importance_interval,
        variance_frac=frac,
        variance_frac_interval=np.clip(frac_interval, 0.0, 1.0),
        r2_heldout=float(np.nanmean(r2s)) if np.isfinite(r2s).any() else float("nan"),
        n_folds=n_folds,
        n_estimators=n_estimators,
        n_repeats=n_repeats,
        folds=FittedFolds(tuple(forests), tuple(backgrounds), columns),
    )
