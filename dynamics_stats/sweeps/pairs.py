"""Every (parameter, outcome) pair of a sweep tested once, then Benjamini-Hochberg adjusted."""

from __future__ import annotations

from statsmodels.stats.multitest import multipletests

from dynamics_stats.sweeps._encoding import EncodedParameter
from dynamics_stats.sweeps.correlate import (
    BootstrapRanks,
    PairTest,
    add_conditional_test,
    associate_pair,
)
from dynamics_stats.sweeps.residual import residual_objective
from dynamics_stats.sweeps.table import SweepTable

__all__ = ["adjust_pairs", "associate_all"]


def adjust_pairs(tests: list[PairTest], alpha: float) -> dict[tuple[str, str], float]:
    """Return the Benjamini-Hochberg adjusted p-value of every test that has a p-value.

    Parameters
    ----------
    tests : list of PairTest
        The whole family: every tested (parameter, outcome) pair of the sweep.
    alpha : float
        False discovery rate (passed to statsmodels ``multipletests``).

    Returns
    -------
    dict of (str, str) to float
        Keyed by (parameter, outcome); untestable pairs are absent.
    """
    tested = [t for t in tests if t.p_value is not None]
    if not tested:
        return {}
    _, adjusted, _, _ = multipletests([t.p_value for t in tested], alpha=alpha, method="fdr_bh")
    return {(t.parameter, t.outcome): float(a) for t, a in zip(tested, adjusted, strict=True)}


def associate_all(
    params: tuple[EncodedParameter, ...],
    table: SweepTable,
    *,
    boot: BootstrapRanks,
    alpha: float,
    model: tuple[int, int] | None,
) -> dict[tuple[str, str], PairTest]:
    """Test every (parameter, outcome) pair; level-valued parameters also conditionally.

    Parameters
    ----------
    params : tuple of EncodedParameter
        The encoded parameters.
    table : SweepTable
        The sweep; outcomes are the objective and each ``p_<kind>`` column.
    boot : BootstrapRanks
        Shared bootstrap resamples.
    alpha : float
        One minus the coverage of the intervals.
    model : (int, int) or None
        (seed, n_estimators) of the residual forests of the conditional tests; None when the
        sweep is too small for a model (no conditional test).

    Returns
    -------
    dict of (str, str) to PairTest
        Keyed by (parameter, outcome).
    """
    outcomes = {c: table.outcome_values(c) for c in (table.objective, *table.problem_columns)}
    tests = {
        (p.name, name): associate_pair(p, name, values, boot, alpha=alpha)
        for p in params
        for name, values in outcomes.items()
    }
    if model is None:
        return tests
    seed, n_estimators = model
    for i, p in enumerate(params):
        if p.kind not in ("categorical", "boolean"):
            continue
        y = outcomes[table.objective]
        residual = residual_objective(params, y, i, seed=seed, n_estimators=n_estimators)
        if residual is not None:
            key = (p.name, table.objective)
            tests[key] = add_conditional_test(tests[key], p, residual)
    return tests
