"""`analyze_sweep`: which hyper-parameters drive the objective and the problem probabilities."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dynamics_stats.core.errors import ConfigError
from dynamics_stats.core.types import FloatArray
from dynamics_stats.sweeps._assemble import ParameterEvidence, build_effect
from dynamics_stats.sweeps._encoding import EncodedParameter, encode_parameters
from dynamics_stats.sweeps.correlate import BootstrapRanks, PairTest
from dynamics_stats.sweeps.effects import Interaction, ParameterEffect
from dynamics_stats.sweeps.importance import (
    MIN_RUNS_FOR_MODEL,
    ImportanceEstimate,
    estimate_importance,
)
from dynamics_stats.sweeps.interactions import find_interactions
from dynamics_stats.sweeps.pairs import adjust_pairs, associate_all
from dynamics_stats.sweeps.partial import partial_rank_correlations
from dynamics_stats.sweeps.result import ImportanceModel, RunOutcome, SweepResult
from dynamics_stats.sweeps.table import SweepTable

__all__ = ["analyze_sweep"]

_METHOD = "random forest; permutation importance on held-out folds (drop of R^2)"


def _check_options(n_bootstrap: int, alpha: float, n_estimators: int) -> None:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 50:
        raise ConfigError(
            f"analyze_sweep n_bootstrap must be an int >= 50; got {n_bootstrap!r}. "
            "Fewer resamples cannot give a 95% interval."
        )
    if isinstance(n_estimators, bool) or not isinstance(n_estimators, int) or n_estimators < 10:
        raise ConfigError(f"analyze_sweep n_estimators must be an int >= 10; got {n_estimators!r}.")
    if not 0.0 < alpha < 0.5:
        raise ConfigError(f"analyze_sweep alpha must lie in (0, 0.5); got {alpha!r}.")


def _run_outcomes(table: SweepTable) -> tuple[RunOutcome, ...]:
    problems = table.problem_columns
    others = [table.objective] + [
        str(c) for c in table.outcomes.columns if c != table.objective and c not in problems
    ]
    numeric = {c: table.outcome_values(c) for c in (*others, *problems)}

    def pairs(
        columns: list[str] | tuple[str, ...], row: int
    ) -> tuple[tuple[str, float | None], ...]:
        return tuple(
            (c, None if np.isnan(numeric[c][row]) else float(numeric[c][row])) for c in columns
        )

    return tuple(
        RunOutcome(str(run_id), pairs(others, i), pairs(problems, i))
        for i, run_id in enumerate(table.outcomes.index)
    )


def _evidence(
    params: tuple[EncodedParameter, ...],
    table: SweepTable,
    estimate: ImportanceEstimate | None,
    tests: dict[tuple[str, str], PairTest],
    *,
    alpha: float,
) -> list[ParameterEvidence]:
    y = table.outcome_values(table.objective)
    adjusted = adjust_pairs(list(tests.values()), alpha)
    partial = partial_rank_correlations(params, y)
    evidence = []
    for i, p in enumerate(params):
        problem = tuple(
            (tests[(p.name, c)], adjusted.get((p.name, c))) for c in table.problem_columns
        )
        evidence.append(
            ParameterEvidence(
                param=p,
                objective_test=tests[(p.name, table.objective)],
                objective_adjusted=adjusted.get((p.name, table.objective)),
                problem_tests=problem,
                partial_correlation=partial[p.name],
                importance=None if estimate is None else float(estimate.importance[i]),
                importance_interval=_row(estimate.importance_interval, i) if estimate else None,
                variance_frac=None if estimate is None else float(estimate.variance_frac[i]),
                variance_frac_interval=_row(estimate.variance_frac_interval, i)
                if estimate
                else None,
            )
        )
    return evidence


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _row(intervals: FloatArray, i: int) -> tuple[float, float]:
    return (float(intervals[i, 0]), float(intervals[i, 1]))


def _order(evidence: list[ParameterEvidence]) -> list[ParameterEvidence]:
    def key(item: ParameterEvidence) -> tuple[float, float]:
        importance = -item.importance if item.importance is not None else 0.0
        p_value = item.objective_adjusted if item.objective_adjusted is not None else 2.0
        return (importance, p_value)

    return sorted(evidence, key=key)


def _fit_importance(
    params: tuple[EncodedParameter, ...],
    y: FloatArray,
    *,
    objective: str,
    options: tuple[float, int, int],
) -> tuple[ImportanceEstimate | None, list[str]]:
    """Fit the importance model when the data allow it; say why not otherwise."""
    alpha, seed, n_estimators = options
    finite = y[np.isfinite(y)]
    if np.ptp(finite) == 0:
        return None, [f"{objective} has the same value in every run; no effect can be measured."]
    if not params:
        return None, []
    estimate = estimate_importance(params, y, alpha=alpha, seed=seed, n_estimators=n_estimators)
    if estimate is None:
        return None, [
            f"only {finite.size} runs have a finite objective; the importance model needs "
            f"{MIN_RUNS_FOR_MODEL}, so importance, variance shares and interactions are not given."
        ]
    if not estimate.r2_heldout > 0:
        return estimate, [
            f"the importance model does not predict held-out runs (R^2 = "
            f"{estimate.r2_heldout:.2f}); importances are indistinguishable from noise."
        ]
    return estimate, []


def analyze_sweep(  # noqa: PLR0913 - the documented keyword options of the analysis
    table: SweepTable,
    *,
    n_bootstrap: int = 500,
    alpha: float = 0.05,
    log_scale: Mapping[str, bool] | None = None,
    seed: int = 0,
    n_estimators: int = 100,
) -> SweepResult:
    """Measure how each hyper-parameter drives the objective and the problem probabilities.

    Parameters
    ----------
    table : SweepTable
        One row per run: hyper-parameters and outcomes.
    n_bootstrap : int, default=500
        Bootstrap resamples for the rank-correlation intervals.
    alpha : float, default=0.05
        False discovery rate of the Benjamini-Hochberg correction and one minus the coverage
        of every interval.
    log_scale : mapping of str to bool, optional
        Per-parameter override of the log-scale rule (positive and max/min >= 100 -> log).
    seed : int, default=0
        Seed of the bootstrap, the folds, the forests and the permutations.
    n_estimators : int, default=100
        Trees per forest of the importance model; fewer is faster and noisier.

    Returns
    -------
    SweepResult
        Parameters ordered by importance, with their tests, intervals and pathology links.

    Raises
    ------
    ConfigError
        When ``n_bootstrap`` or ``alpha`` is out of range, or ``log_scale`` names an unknown or
        non-positive parameter.

    Notes
    -----
    Every (parameter, outcome) pair, the outcomes being the objective and each ``p_<kind>``
    column, is tested once (see `associate_pair`); for categorical and boolean parameters the
    objective test is combined (Bonferroni) with a Kruskal-Wallis test on the objective net of
    the other parameters (`residual_objective`). The Benjamini-Hochberg correction runs over
    all pairs together, and ``significant`` means adjusted p <= alpha. Importance and
    interactions come from cross-validated random forests (`estimate_importance`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ids = [f"r{i}" for i in range(60)]
    >>> lr, depth = 10 ** rng.uniform(-5, -1, 60), rng.integers(1, 9, 60)
    >>> params = pd.DataFrame({"lr": lr, "depth": depth}, index=ids)
    >>> loss = np.log10(params["lr"]).to_numpy() * -1.0 + rng.normal(0, 0.3, 60)
    >>> outcomes = pd.DataFrame({"best_val_loss": loss}, index=ids)
    >>> table = SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")
    >>> result = analyze_sweep(table, n_bootstrap=100)
    >>> [(p.name, p.kind, p.direction) for p in result.parameters][0]
    ('lr', 'log-numeric', 'decreases')
    """
    _check_options(n_bootstrap, alpha, n_estimators)
    params, limitations = encode_parameters(table.params, log_scale=log_scale)
    notes = list(table.limitations) + list(limitations)
    y = table.outcome_values(table.objective)
    n_used = int(np.isfinite(y).sum())
    if n_used < table.n_runs:
        notes.append(
            f"{table.n_runs - n_used} of {table.n_runs} runs have no finite {table.objective}; "
            "they are left out of the objective statistics."
        )
    estimate, model_notes = _fit_importance(
        params, y, objective=table.objective, options=(alpha, seed, n_estimators)
    )
    notes.extend(model_notes)
    boot = BootstrapRanks(n_bootstrap, seed)
    model = None if estimate is None else (seed, n_estimators)
    tests = associate_all(params, table, boot=boot, alpha=alpha, model=model)
    evidence = _order(_evidence(params, table, estimate, tests, alpha=alpha))
    effects = tuple(
        build_effect(e, y, rank=r, alpha=alpha, objective_direction=table.direction)
        for r, e in enumerate(evidence, start=1)
    )
    interactions: tuple[Interaction, ...] = ()
    if estimate is not None and len(params) >= 2:
        interactions = find_interactions(params, estimate)
    return _result(
        table, n_used, notes, effects, interactions, estimate, (n_bootstrap, alpha, seed)
    )


def _result(  # noqa: PLR0913 - assembles the frozen result
    table: SweepTable,
    n_used: int,
    notes: list[str],
    effects: tuple[ParameterEffect, ...],
    interactions: tuple[Interaction, ...],
    estimate: ImportanceEstimate | None,
    settings: tuple[int, float, int],
) -> SweepResult:
    model = ImportanceModel(
        method=_METHOD,
        n_folds=0 if estimate is None else estimate.n_folds,
        n_estimators=0 if estimate is None else estimate.n_estimators,
        n_repeats=0 if estimate is None else estimate.n_repeats,
        r2_heldout=_finite(estimate.r2_heldout) if estimate is not None else None,
    )
    if not effects:
        notes.append("no parameter varies across the runs; nothing to correlate.")
    return SweepResult(
        objective=table.objective,
        direction=table.direction,
        n_runs=table.n_runs,
        n_runs_used=n_used,
        runs=_run_outcomes(table),
        limitations=tuple(notes),
        parameters=effects,
        interactions=interactions,
        model=model,
        settings=tuple(
            (k, float(v)) for k, v in zip(("n_bootstrap", "alpha", "seed"), settings, strict=True)
        ),
    )
