"""Frozen records of what one hyper-parameter does: effect on the objective and pathologies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from dynamics_stats.core.results import json_float
from dynamics_stats.core.types import JSONValue

__all__ = [
    "EffectDirection",
    "Interaction",
    "Interval",
    "ParameterEffect",
    "ParameterKind",
    "PathologyLink",
]

Interval: TypeAlias = tuple[float, float]
ParameterKind: TypeAlias = Literal["numeric", "log-numeric", "categorical", "boolean"]
#: How the outcome moves as the parameter grows; ``by-level`` for categoricals.
EffectDirection: TypeAlias = Literal["increases", "decreases", "non-monotone", "by-level", "none"]

NO_EFFECT = "no detectable effect"


def _interval_to_json(interval: Interval | None) -> JSONValue:
    if interval is None:
        return None
    return [json_float(interval[0]), json_float(interval[1])]


def _interval_from_json(data: Any) -> Interval | None:
    if data is None or data[0] is None or data[1] is None:
        return None
    return (float(data[0]), float(data[1]))


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class PathologyLink:
    """A problem kind whose probability a parameter drives, after multiple-testing correction.

    Parameters
    ----------
    kind : str
        One of the seven core problem kinds.
    measure : {"spearman", "epsilon_squared"}
        The effect-size measure: rank correlation for numeric and boolean parameters,
        Kruskal-Wallis epsilon squared for categoricals.
    effect_size : float
        Value of ``measure``.
    p_value_adjusted : float
        Benjamini-Hochberg adjusted p-value over every tested (parameter, outcome) pair.
    direction : str
        How the probability moves as the parameter grows (see `EffectDirection`).
    """

    kind: str
    measure: Literal["spearman", "epsilon_squared"]
    effect_size: float
    p_value_adjusted: float
    direction: EffectDirection

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the link as JSON-native values."""
        return {
            "kind": self.kind,
            "measure": self.measure,
            "effect_size": json_float(self.effect_size),
            "p_value_adjusted": json_float(self.p_value_adjusted),
            "direction": self.direction,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PathologyLink:
        """Rebuild a link written by `to_dict`."""
        return cls(
            kind=data["kind"],
            measure=data["measure"],
            effect_size=float(data["effect_size"]),
            p_value_adjusted=float(data["p_value_adjusted"]),
            direction=data["direction"],
        )


@dataclass(frozen=True, slots=True)
class Interaction:
    """The strength of the interaction of two parameters on the objective.

    Parameters
    ----------
    parameters : tuple of (str, str)
        The two parameter names.
    h_statistic : float
        Friedman's H^2: the share of the pair's joint partial-dependence variance not
        explained by the two main effects, in [0, 1].
    variance_frac : float
        The interaction's variance as a share of the variance of the model's predictions.
    """

    parameters: tuple[str, str]
    h_statistic: float
    variance_frac: float

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the interaction as JSON-native values."""
        return {
            "parameters": list(self.parameters),
            "h_statistic": json_float(self.h_statistic),
            "variance_frac": json_float(self.variance_frac),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Interaction:
        """Rebuild an interaction written by `to_dict`."""
        first, second = data["parameters"]
        return cls(
            parameters=(str(first), str(second)),
            h_statistic=float(data["h_statistic"]),
            variance_frac=float(data["variance_frac"]),
        )


@dataclass(frozen=True, slots=True)
class ParameterEffect:
    """Everything measured about one hyper-parameter of a sweep.

    ``None`` marks a statistic that does not apply (e.g. Spearman for a categorical) or that
    the data could not support (too few runs); the result's limitations say why. Intervals
    are (low, high) at 1 - alpha coverage. The full field list is documented in
    ``report/schema/sweep_result.v1.json``.

    Parameters
    ----------
    name : str
        Parameter column.
    rank : int
        1 = most important.
    kind : {"numeric", "log-numeric", "categorical", "boolean"}
        How the parameter was treated.
    n_runs, n_missing : int
        Runs with both the parameter and the objective; runs missing the parameter.
    importance, importance_interval : float, (float, float) or None
        Drop of held-out R^2 when the parameter is shuffled (random forest, K folds).
    variance_frac, variance_frac_interval : float, (float, float) or None
        Functional-ANOVA main-effect share of the forest's prediction variance.
    spearman, spearman_interval, kendall, kendall_interval : float, (float, float) or None
        Rank correlations with the objective (bootstrap / asymptotic intervals).
    partial_correlation : float or None
        Spearman correlation controlling for the other numeric parameters.
    kruskal_p_value, epsilon_squared : float or None
        Kruskal-Wallis test over levels or quantile bins and its effect size.
    conditional_p_value : float or None
        Categorical and boolean parameters: Kruskal-Wallis p-value on the objective net of
        an out-of-bag forest on the other parameters.
    p_value, p_value_adjusted : float or None
        Test of the parameter-objective pair; Benjamini-Hochberg adjusted over all pairs.
    significant : bool
        ``p_value_adjusted <= alpha``.
    direction : EffectDirection
        How the objective moves as the parameter grows; ``none`` when not significant.
    better_when : {"higher", "lower"} or None
        Which values give a better objective, for monotone effects.
    best_level : str or None
        Level or value range with the best median objective, for significant parameters.
    pathologies : tuple of PathologyLink
        Problem kinds whose probability the parameter drives (significant after BH).
    effect : str
        Plain verdict; ``"no detectable effect"`` for an inert parameter.
    """

    name: str
    rank: int
    kind: ParameterKind
    n_runs: int
    n_missing: int
    importance: float | None
    importance_interval: Interval | None
    variance_frac: float | None
    variance_frac_interval: Interval | None
    spearman: float | None
    spearman_interval: Interval | None
    kendall: float | None
    kendall_interval: Interval | None
    partial_correlation: float | None
    kruskal_p_value: float | None
    epsilon_squared: float | None
    conditional_p_value: float | None
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool
    direction: EffectDirection
    better_when: str | None
    best_level: str | None
    pathologies: tuple[PathologyLink, ...]
    effect: str

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the effect as JSON-native values."""
        out: dict[str, JSONValue] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if name.endswith("_interval"):
                out[name] = _interval_to_json(value)
            elif name == "pathologies":
                out[name] = [link.to_dict() for link in value]
            elif isinstance(value, float):
                out[name] = json_float(value)
            else:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParameterEffect:
        """Rebuild an effect written by `to_dict`."""
        values: dict[str, Any] = {}
        for name in cls.__slots__:
            raw = data[name]
            if name.endswith("_interval"):
                values[name] = _interval_from_json(raw)
            elif name == "pathologies":
                values[name] = tuple(PathologyLink.from_dict(link) for link in raw)
            elif name in _FLOAT_FIELDS:
                values[name] = _optional_float(raw)
            else:
                values[name] = raw
        return cls(**values)


_FLOAT_FIELDS = frozenset(
    {
        "importance",
        "variance_frac",
        "spearman",
        "kendall",
        "partial_correlation",
        "kruskal_p_value",
        "epsilon_squared",
        "conditional_p_value",
        "p_value",
        "p_value_adjusted",
    }
)
