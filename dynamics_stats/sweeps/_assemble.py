"""Turn the pair tests and importance estimates of one parameter into a `ParameterEffect`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynamics_stats.core.types import FloatArray
from dynamics_stats.sweeps._encoding import EncodedParameter
from dynamics_stats.sweeps.correlate import N_BINS, PairTest
from dynamics_stats.sweeps.effects import (
    NO_EFFECT,
    EffectDirection,
    Interval,
    ParameterEffect,
    PathologyLink,
)

__all__ = ["NEGLIGIBLE_IMPORTANCE", "ParameterEvidence", "build_effect"]

#: Importance (drop of held-out R^2) below which an effect is practically nil: 1% of the
#: objective's held-out variance.
NEGLIGIBLE_IMPORTANCE = 0.01


@dataclass(frozen=True)
class ParameterEvidence:
    """Everything measured about one parameter, before it is ranked."""

    param: EncodedParameter
    objective_test: PairTest
    objective_adjusted: float | None
    problem_tests: tuple[tuple[PairTest, float | None], ...]
    partial_correlation: float | None
    importance: float | None
    importance_interval: Interval | None
    variance_frac: float | None
    variance_frac_interval: Interval | None


def _direction(kind: str, test: PairTest) -> EffectDirection:
    """Monotone direction, or ``non-monotone`` when the trend explains little of the groups.

    A numeric effect is monotone when the Spearman interval excludes 0 and rho^2 is at least
    half the bias-corrected binned Kruskal-Wallis epsilon^2 (both are shares of the rank
    variance: one explained by a monotone trend, one by the quantile groups).
    """
    if kind == "categorical":
        return "by-level"
    rho, interval = test.spearman, test.spearman_interval
    if rho is None or rho == 0:
        return "non-monotone"
    if kind != "boolean":
        excludes_zero = interval is not None and (interval[0] > 0 or interval[1] < 0)
        grouped = (test.epsilon_squared or 0.0) - (N_BINS - 1) / max(test.n - 1, 1)
        if not excludes_zero or rho**2 < 0.5 * grouped:
            return "non-monotone"
    return "increases" if rho > 0 else "decreases"


def _better_when(direction: EffectDirection, objective_direction: str) -> str | None:
    if direction not in ("increases", "decreases"):
        return None
    higher_is_worse = (direction == "increases") == (objective_direction == "minimize")
    return "lower" if higher_is_worse else "higher"


def _best_level(param: EncodedParameter, y: FloatArray, objective_direction: str) -> str | None:
    """Return the level (categorical) or value range (numeric bin) with the best median."""
    if param.values is None:
        groups, labels = param.codes, list(param.levels)
    else:
        present = np.isfinite(param.values)
        ranks = np.argsort(np.argsort(param.values[present], kind="stable"))
        bins = np.full(param.values.size, -1)
        bins[present] = np.minimum(ranks * N_BINS // int(present.sum()), N_BINS - 1)
        groups, labels = bins, [_bin_label(param, bins, b) for b in range(N_BINS)]
    medians = {}
    for group in np.unique(groups[(groups >= 0) & np.isfinite(y)]):
        medians[int(group)] = float(np.median(y[(groups == group) & np.isfinite(y)]))
    if not medians:
        return None
    pick = min if objective_direction == "minimize" else max
    return labels[pick(medians, key=lambda g: medians[g])]


def _bin_label(param: EncodedParameter, bins: np.ndarray, group: int) -> str:
    values = param.values[bins == group] if param.values is not None else np.array([])
    if values.size == 0:
        return ""
    if param.kind == "log-numeric":
        values = 10.0**values
    return f"{values.min():.3g} to {values.max():.3g}"


def _links(evidence: ParameterEvidence, alpha: float) -> tuple[PathologyLink, ...]:
    kind = evidence.param.kind
    links = []
    for test, adjusted in evidence.problem_tests:
        if adjusted is None or adjusted > alpha:
            continue
        direction = _direction(kind, test)
        use_rho = kind == "boolean" or direction in ("increases", "decreases")
        size = test.spearman if use_rho else test.epsilon_squared
        if size is None:
            continue
        links.append(
            PathologyLink(
                kind=test.outcome.removeprefix("p_"),
                measure="spearman" if use_rho else "epsilon_squared",
                effect_size=size,
                p_value_adjusted=adjusted,
                direction=direction,
            )
        )
    return tuple(sorted(links, key=lambda link: link.p_value_adjusted))


def _effect_label(
    significant: bool, interval: Interval | None, frac_interval: Interval | None
) -> str:
    important = interval is not None and interval[0] > NEGLIGIBLE_IMPORTANCE
    if not significant:
        # Without a significant test, both importance measures must exclude a negligible effect.
        important = (
            important and frac_interval is not None and frac_interval[0] > NEGLIGIBLE_IMPORTANCE
        )
    if significant and interval is None:
        return "significant effect (too few runs to measure importance)"
    if significant and important:
        return "clear effect"
    if significant:
        return "weak effect: significant association, little predictive importance"
    if important:
        return "uncertain effect: predictive importance without a significant test"
    return NO_EFFECT


def build_effect(
    evidence: ParameterEvidence,
    y: FloatArray,
    *,
    rank: int,
    alpha: float,
    objective_direction: str,
) -> ParameterEffect:
    """Assemble the `ParameterEffect` of one parameter from its evidence."""
    test, param = evidence.objective_test, evidence.param
    significant = evidence.objective_adjusted is not None and evidence.objective_adjusted <= alpha
    direction: EffectDirection = _direction(param.kind, test) if significant else "none"
    return ParameterEffect(
        name=param.name,
        rank=rank,
        kind=param.kind,
        n_runs=test.n,
        n_missing=param.n_missing,
        importance=evidence.importance,
        importance_interval=evidence.importance_interval,
        variance_frac=evidence.variance_frac,
        variance_frac_interval=evidence.variance_frac_interval,
        spearman=test.spearman,
        spearman_interval=test.spearman_interval,
        kendall=test.kendall,
        kendall_interval=test.kendall_interval,
        partial_correlation=evidence.partial_correlation,
        kruskal_p_value=test.kruskal_p_value,
        epsilon_squared=test.epsilon_squared,
        conditional_p_value=test.conditional_p_value,
        p_value=test.p_value,
        p_value_adjusted=evidence.objective_adjusted,
        significant=significant,
        direction=direction,
        better_when=_better_when(direction, objective_direction),
        best_level=_best_level(param, y, objective_direction) if significant else None,
        pathologies=_links(evidence, alpha),
        effect=_effect_label(
            significant, evidence.importance_interval, evidence.variance_frac_interval
        ),
    )
