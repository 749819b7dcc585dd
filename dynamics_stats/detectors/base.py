"""What every detector provides (`Detector`) and produces (`Evidence`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.core.types import JSONValue, Severity
from dynamics_stats.curves.types import ModelledRun

__all__ = ["CORE_KINDS", "Detector", "Evidence"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a detector measured about one kind of problem: a raw score and its numbers.

    A detector emits one `Evidence` per kind it covers on every run it can analyse, also
    when it finds nothing (score near its "absent" end): calibration needs the scores of
    healthy runs as much as those of sick ones. Scores are not probabilities; calibration
    turns them into probabilities.

    Parameters
    ----------
    kind : str
        One of `CORE_KINDS`, or a further kind (``"validation_plateau"``, ``"lr_too_high"``,
        ``"clipping_ineffective"``...).
    detector : str
        Registry name of the detector.
    score : float
        Raw score, larger means stronger evidence; each detector documents its scale.
    metric : str or None, default=None
        Source name of the metric the evidence is about.
    onset_step : int or None, default=None
        First step where the problem shows.
    end_step : int or None, default=None
        Last step where it shows (None when it lasts to the end of the run).
    severity : {"info", "warning", "critical"}, default="info"
        How bad it would be if real.
    values : tuple of (str, float) pairs, default=()
        The numbers behind the score (features for calibration, evidence for users).
    steps : tuple of int, default=()
        Individual steps involved (spike steps, NaN steps), at most a few dozen.
    message : str, default=""
        One plain sentence for people.
    """

    kind: str
    detector: str
    score: float
    metric: str | None = None
    onset_step: int | None = None
    end_step: int | None = None
    severity: Severity = "info"
    values: tuple[tuple[str, float], ...] = ()
    steps: tuple[int, ...] = ()
    message: str = ""

    def __post_init__(self) -> None:
        # numbers computed with numpy arrive as numpy scalars; results carry plain types
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "values", tuple((str(k), float(v)) for k, v in self.values))
        object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        for name in ("onset_step", "end_step"):
            step = getattr(self, name)
            if step is not None:
                object.__setattr__(self, name, int(step))

    def value(self, name: str, default: float = float("nan")) -> float:
        """Return the evidence number called ``name`` (``default`` if absent)."""
        for key, number in self.values:
            if key == name:
                return number
        return default

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the evidence as JSON-native values (non-finite numbers become None)."""
        return {
            "kind": self.kind,
            "detector": self.detector,
            "score": _finite(self.score),
            "metric": self.metric,
            "onset_step": self.onset_step,
            "end_step": self.end_step,
            "severity": self.severity,
            "values": {k: _finite(v) for k, v in self.values},
            "steps": list(self.steps),
            "message": self.message,
        }


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None


class Detector(Protocol):
    """A detector: parameters as dataclass fields, one `detect` method.

    Attributes
    ----------
    name : str
        Registry name.
    requires : frozenset of str
        Metric roles that must be present; without them the detector is skipped (and the
        skip is recorded), never an exception.
    kinds : tuple of str
        The kinds it emits evidence for.
    """

    name: ClassVar[str]
    requires: ClassVar[frozenset[str]]
    kinds: ClassVar[tuple[str, ...]]

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return the evidence found in ``run`` (one per kind covered)."""
        ...
