"""Frozen result objects of an analysis: `Finding`, `Recommendation`, `Risk`, `AgentResult`.

Every object has ``to_dict()`` returning JSON-native values (NaN and inf become None) and
``from_dict()`` rebuilding it, so ``from_dict(to_dict(r)) == r``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from dynamics_stats.core.types import JSONValue, Severity

__all__ = [
    "SCHEMA_VERSION",
    "CalibrationInfo",
    "Finding",
    "Recommendation",
    "Risk",
    "Basis",
    "Status",
]

#: Version of the JSON contract. 1.1 added fields (``basis``, risk contributions, confidence
#: factors, coverage, upstream validation, hyper-parameters); every 1.0 field is unchanged.
SCHEMA_VERSION = "1.1"
Basis: TypeAlias = Literal["evidence", "general"]
Status: TypeAlias = Literal["complete", "partial", "failed"]
Pairs: TypeAlias = tuple[tuple[str, float], ...]


def json_float(value: float | None) -> float | None:
    """Return ``value`` as a float, or None when it is None, NaN or infinite."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _pairs_to_dict(pairs: Pairs) -> dict[str, JSONValue]:
    return {key: json_float(value) for key, value in pairs}


def _pairs_from_dict(data: Any) -> Pairs:
    return tuple((str(k), float("nan") if v is None else float(v)) for k, v in data.items())


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem the analysis found, with its calibrated probability.

    Parameters
    ----------
    id : str
        Stable within one result (the kind: one finding per kind); recommendations cite it.
    kind : str
        The problem kind (one of the seven core kinds, or a further kind such as
        ``"validation_plateau"``).
    detector : str
        Registry name of the detector that measured it.
    probability : float or None
        Calibrated probability that the finding is real, or None for kinds that have no
        calibration map (then ``calibrated`` is False and only ``score`` is given).
    calibrated : bool
        Whether ``probability`` comes from a fitted calibration map.
    severity : {"info", "warning", "critical"}
        How bad it would be if real.
    score : float
        The detector's raw score (not a probability).
    metric : str or None
        The metric it is about.
    onset_step, end_step : int or None
        Where it starts and ends (None: unknown / to the end of the run).
    steps : tuple of int
        Individual steps involved (spikes, non-finite values).
    evidence : tuple of (str, float)
        The numbers behind it.
    message : str
        One plain sentence.
    """

    id: str
    kind: str
    detector: str
    probability: float | None
    calibrated: bool
    severity: Severity
    score: float
    metric: str | None = None
    onset_step: int | None = None
    end_step: int | None = None
    steps: tuple[int, ...] = ()
    evidence: Pairs = ()
    message: str = ""

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the finding as JSON-native values."""
        return {
            "id": self.id,
            "kind": self.kind,
            "detector": self.detector,
            "probability": json_float(self.probability),
            "calibrated": self.calibrated,
            "severity": self.severity,
            "score": json_float(self.score),
            "metric": self.metric,
            "onset_step": self.onset_step,
            "end_step": self.end_step,
            "steps": list(self.steps),
            "evidence": _pairs_to_dict(self.evidence),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding written by `to_dict`."""
        probability = data["probability"]
        return cls(
            id=data["id"],
            kind=data["kind"],
            detector=data["detector"],
            probability=None if probability is None else float(probability),
            calibrated=bool(data["calibrated"]),
            severity=data["severity"],
            score=float("nan") if data["score"] is None else float(data["score"]),
            metric=data.get("metric"),
            onset_step=_opt_int(data.get("onset_step")),
            end_step=_opt_int(data.get("end_step")),
            steps=tuple(int(s) for s in data.get("steps", ())),
            evidence=_pairs_from_dict(data.get("evidence", {})),
            message=data.get("message", ""),
        )


@dataclass(frozen=True, slots=True)
class Recommendation:
    """An action the evidence supports.

    Parameters
    ----------
    action : str
        Stable machine code (``"lower_lr"``, ``"early_stop"``, ``"clip_gradients"``...).
    text : str
        What to do, with concrete values where the evidence supports them.
    finding_ids : tuple of str
        The findings that justify it (empty for general advice).
    priority : int
        1 is most urgent.
    expected_effect : str
        What should change if it is applied.
    general : bool, default=False
        True for conservative general advice given when the analysis was partial.
    values : tuple of (str, float), default=()
        The concrete values proposed (``("suggested_lr", 1e-3)``).
    basis : {"evidence", "general"} or None, default=None
        ``"evidence"``: derived from this run's findings and their numbers; ``"general"``:
        conservative advice given because part of the analysis could not run. None sets
        it from ``general``.
    """

    action: str
    text: str
    finding_ids: tuple[str, ...]
    priority: int
    expected_effect: str
    general: bool = False
    values: Pairs = ()
    basis: Basis | None = None

    def __post_init__(self) -> None:
        if self.basis is None:
            object.__setattr__(self, "basis", "general" if self.general else "evidence")

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the recommendation as JSON-native values."""
        return {
            "action": self.action,
            "text": self.text,
            "finding_ids": list(self.finding_ids),
            "priority": self.priority,
            "expected_effect": self.expected_effect,
            "general": self.general,
            "values": _pairs_to_dict(self.values),
            "basis": self.basis,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recommendation:
        """Rebuild a recommendation written by `to_dict`."""
        return cls(
            action=data["action"],
            text=data["text"],
            finding_ids=tuple(data["finding_ids"]),
            priority=int(data["priority"]),
            expected_effect=data["expected_effect"],
            general=bool(data.get("general", False)),
            values=_pairs_from_dict(data.get("values", {})),
            basis=data.get("basis"),
        )


@dataclass(frozen=True, slots=True)
class Risk:
    """Run-level risk that the run will not reach a good result or is wasting compute.

    Parameters
    ----------
    score : float
        In [0, 1]: the probability that at least one of the seven problems is present,
        combining the per-kind probabilities weighted by their impact as if independent
        (``1 - prod(1 - w p)``).
    level : {"low", "medium", "high"}
        ``score`` below 0.3, below 0.7, or above.
    drivers : tuple of str
        The kinds that contribute most, strongest first.
    mitigation : str
        What would lower it, in words.
    contributions : tuple of (str, float), default=()
        Each core kind's impact-weighted probability ``w p``, strongest first: what the
        score is made of.
    lowered_by : tuple of str, default=()
        Action codes of the recommendations that address the drivers.
    wasted_compute_frac : float or None, default=None
        Fraction of the logged steps spent after the run stopped paying off (after the
        best validation step when overfitting, or on a plateau); None when unknown.
    """

    score: float
    level: Literal["low", "medium", "high"]
    drivers: tuple[str, ...]
    mitigation: str
    contributions: Pairs = ()
    lowered_by: tuple[str, ...] = ()
    wasted_compute_frac: float | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the risk as JSON-native values."""
        return {
            "score": json_float(self.score),
            "level": self.level,
            "drivers": list(self.drivers),
            "mitigation": self.mitigation,
            "contributions": _pairs_to_dict(self.contributions),
            "lowered_by": list(self.lowered_by),
            "wasted_compute_frac": json_float(self.wasted_compute_frac),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Risk:
        """Rebuild a risk written by `to_dict`."""
        return cls(
            score=float(data["score"]),
            level=data["level"],
            drivers=tuple(data["drivers"]),
            mitigation=data["mitigation"],
            contributions=_pairs_from_dict(data.get("contributions", {})),
            lowered_by=tuple(data.get("lowered_by", ())),
            wasted_compute_frac=json_float(data.get("wasted_compute_frac")),
        )


@dataclass(frozen=True, slots=True)
class CalibrationInfo:
    """Which calibration produced the probabilities.

    Parameters
    ----------
    name : str
        Map name, ``"none"`` for the provisional mapping.
    version : str
        Map version.
    calibrated : bool
        Whether the map was fitted on labelled runs.
    description : str
        What the probabilities mean, in one or two sentences.
    """

    name: str
    version: str
    calibrated: bool
    description: str

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the calibration info as JSON-native values."""
        return {
            "name": self.name,
            "version": self.version,
            "calibrated": self.calibrated,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationInfo:
        """Rebuild calibration info written by `to_dict`."""
        return cls(data["name"], data["version"], bool(data["calibrated"]), data["description"])
