"""`AgentResult`: the JSON contract of one analysed run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dynamics_stats.core.report import ValidationReport
from dynamics_stats.core.results import (
    SCHEMA_VERSION,
    CalibrationInfo,
    Finding,
    Pairs,
    Recommendation,
    Risk,
    Status,
    json_float,
)
from dynamics_stats.core.types import JSONValue

__all__ = ["AgentResult", "Confidence", "MetricSummary", "RunSummary"]


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """Name, role and extent of one metric of the analysed run."""

    name: str
    role: str
    direction: str
    n_points: int
    first_step: int | None
    last_step: int | None

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the summary as JSON-native values."""
        return {
            "name": self.name,
            "role": self.role,
            "direction": self.direction,
            "n_points": self.n_points,
            "first_step": self.first_step,
            "last_step": self.last_step,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What was analysed: source, format, steps, metrics and the metric of each role."""

    source: str
    format: str
    step_unit: str
    last_step: int | None
    metrics: tuple[MetricSummary, ...]
    primary: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the summary as JSON-native values."""
        return {
            "source": self.source,
            "format": self.format,
            "step_unit": self.step_unit,
            "last_step": self.last_step,
            "metrics": [m.to_dict() for m in self.metrics],
            "primary": dict(self.primary),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        """Rebuild a summary written by `to_dict`."""
        return cls(
            source=data["source"],
            format=data["format"],
            step_unit=data["step_unit"],
            last_step=data["last_step"],
            metrics=tuple(MetricSummary(**m) for m in data["metrics"]),
            primary=tuple(data["primary"].items()),
        )


@dataclass(frozen=True, slots=True)
class Confidence:
    """How far the analysis as a whole can be trusted, given the data it had.

    Parameters
    ----------
    level : {"low", "medium", "high"}
        Overall reliability of the analysis.
    score : float
        In [0, 1]; 1 means every analysis ran on dense, complete data.
    reasons : tuple of str
        Plain sentences: what lowered it.
    """

    level: str
    score: float
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the confidence as JSON-native values."""
        return {"level": self.level, "score": json_float(self.score), "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class AgentResult:
    """The result of analysing one run; ``to_dict()`` is the JSON contract.

    Parameters
    ----------
    status : {"complete", "partial", "failed"}
        ``partial`` when some analyses could not run (see ``limitations``).
    limitations : tuple of str
        What could not be analysed and why, one plain sentence each.
    run : RunSummary
        What was analysed.
    issues : tuple of (str, float)
        For each of the seven core kinds, the probability that the run shows it.
    assessed : tuple of (str, bool)
        For each core kind, whether a detector could assess it; when not, its probability
        is the calibration corpus' base rate (the prior) and a limitation says why.
    findings : tuple of Finding
        Problems found, most probable first.
    trends : tuple of (str, tuple of (str, float))
        Trend analyses by name (LR effectiveness, efficiency, plateau, extrapolation).
    recommendations : tuple of Recommendation
        Actions, most urgent first.
    risk : Risk
        Run-level risk.
    confidence : Confidence
        Reliability of the analysis as a whole.
    calibration : CalibrationInfo
        Which calibration produced the probabilities.
    validation : ValidationReport
        What loading and validation found and repaired.
    package_version : str
        Version of dynamics_stats that produced the result.
    """

    status: Status
    limitations: tuple[str, ...]
    run: RunSummary
    issues: Pairs
    assessed: tuple[tuple[str, bool], ...]
    findings: tuple[Finding, ...]
    trends: tuple[tuple[str, Pairs], ...]
    recommendations: tuple[Recommendation, ...]
    risk: Risk
    confidence: Confidence
    calibration: CalibrationInfo
    validation: ValidationReport
    package_version: str

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the result as JSON-native values (the ``agent_result`` schema)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "status": self.status,
            "limitations": list(self.limitations),
            "run": self.run.to_dict(),
            "issues": {kind: json_float(p) for kind, p in self.issues},
            "assessed": dict(self.assessed),
            "findings": [f.to_dict() for f in self.findings],
            "trends": {name: {k: json_float(v) for k, v in values} for name, values in self.trends},
            "recommendations": [r.to_dict() for r in self.recommendations],
            "risk": self.risk.to_dict(),
            "confidence": self.confidence.to_dict(),
            "calibration": self.calibration.to_dict(),
            "validation": self.validation.to_dict(),
            "package_version": self.package_version,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return `to_dict` as strict JSON (no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentResult:
        """Rebuild a result written by `to_dict`."""
        return cls(
            status=data["status"],
            limitations=tuple(data["limitations"]),
            run=RunSummary.from_dict(data["run"]),
            issues=tuple((k, float(v)) for k, v in data["issues"].items()),
            assessed=tuple((k, bool(v)) for k, v in data["assessed"].items()),
            findings=tuple(Finding.from_dict(f) for f in data["findings"]),
            trends=tuple(
                (name, tuple((k, float("nan") if v is None else float(v)) for k, v in vals.items()))
                for name, vals in data["trends"].items()
            ),
            recommendations=tuple(Recommendation.from_dict(r) for r in data["recommendations"]),
            risk=Risk.from_dict(data["risk"]),
            confidence=Confidence(
                level=data["confidence"]["level"],
                score=float(data["confidence"]["score"]),
                reasons=tuple(data["confidence"]["reasons"]),
            ),
            calibration=CalibrationInfo.from_dict(data["calibration"]),
            validation=ValidationReport.from_dict(data["validation"]),
            package_version=data["package_version"],
        )

    def probability(self, kind: str) -> float:
        """Return the probability of one of the seven core kinds."""
        for name, p in self.issues:
            if name == kind:
                return p
        raise KeyError(kind)
