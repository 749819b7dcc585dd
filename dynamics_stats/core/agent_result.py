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
from dynamics_stats.core.types import HParamValue, JSONValue

__all__ = [
    "AgentResult",
    "AnalysisRecord",
    "Confidence",
    "MetricSummary",
    "RunSummary",
    "UpstreamValidation",
]


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
    factors : tuple of (str, float), default=()
        Machine code of each reason and how much it lowered the score.
    explanation : str, default=""
        The level, the score and its reasons in one paragraph.
    """

    level: str
    score: float
    reasons: tuple[str, ...]
    factors: Pairs = ()
    explanation: str = ""

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the confidence as JSON-native values."""
        return {
            "level": self.level,
            "score": json_float(self.score),
            "reasons": list(self.reasons),
            "factors": {k: json_float(v) for k, v in self.factors},
            "explanation": self.explanation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Confidence:
        """Rebuild a confidence written by `to_dict`."""
        return cls(
            level=data["level"],
            score=float(data["score"]),
            reasons=tuple(data["reasons"]),
            factors=tuple((k, float(v)) for k, v in data.get("factors", {}).items()),
            explanation=data.get("explanation", ""),
        )


@dataclass(frozen=True, slots=True)
class UpstreamValidation:
    """Whether an artifact validation ran before this analysis, and what it found.

    Parameters
    ----------
    ran : bool or None, default=None
        True when an upstream validator checked the artifacts, False when it is known
        that none did, None when unknown.
    passed : bool or None, default=None
        Whether it accepted the artifacts (None: not reported).
    n_issues : int, default=0
        How many issues it reported.
    summary : str, default=""
        Its findings in one or two sentences.
    source : str, default=""
        Name of the agent or tool that validated.
    """

    ran: bool | None = None
    passed: bool | None = None
    n_issues: int = 0
    summary: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the upstream status as JSON-native values."""
        return {
            "ran": self.ran,
            "passed": self.passed,
            "n_issues": self.n_issues,
            "summary": self.summary,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UpstreamValidation:
        """Rebuild an upstream status written by `to_dict`."""
        return cls(
            ran=data.get("ran"),
            passed=data.get("passed"),
            n_issues=int(data.get("n_issues", 0)),
            summary=data.get("summary", ""),
            source=data.get("source", ""),
        )


@dataclass(frozen=True, slots=True)
class AnalysisRecord:
    """What happened to one analysis (a detector or a supporting statistic).

    Parameters
    ----------
    name : str
        Detector registry name, or ``"lr_response"``.
    state : {"ran", "fallback", "skipped", "failed", "disabled"}
        ``fallback``: ran on a simplified heuristic because a curve model failed.
    reason : str, default=""
        Why it did not run, or what fell back.
    """

    name: str
    state: str
    reason: str = ""

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the record as JSON-native values."""
        return {"name": self.name, "state": self.state, "reason": self.reason}


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
    upstream : UpstreamValidation, default=UpstreamValidation()
        Whether the artifacts were validated upstream and what that found.
    hparams : tuple of (str, scalar), default=()
        The run's hyper-parameters the analysis used (dotted keys).
    coverage : tuple of AnalysisRecord, default=()
        Each analysis and whether it ran, fell back, was skipped, failed or was disabled.
    other_agents : tuple of str, default=()
        Names of the other agents' outputs that were available to the analysis.
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
    upstream: UpstreamValidation = UpstreamValidation()
    hparams: tuple[tuple[str, HParamValue], ...] = ()
    coverage: tuple[AnalysisRecord, ...] = ()
    other_agents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        safe = tuple((str(k), _json_scalar(v)) for k, v in self.hparams)
        object.__setattr__(self, "hparams", safe)

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
            "upstream": self.upstream.to_dict(),
            "hparams": dict(self.hparams),
            "coverage": [c.to_dict() for c in self.coverage],
            "other_agents": list(self.other_agents),
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
            confidence=Confidence.from_dict(data["confidence"]),
            calibration=CalibrationInfo.from_dict(data["calibration"]),
            validation=ValidationReport.from_dict(data["validation"]),
            package_version=data["package_version"],
            upstream=UpstreamValidation.from_dict(data.get("upstream", {})),
            hparams=tuple(data.get("hparams", {}).items()),
            coverage=tuple(AnalysisRecord(**c) for c in data.get("coverage", ())),
            other_agents=tuple(data.get("other_agents", ())),
        )

    def probability(self, kind: str) -> float:
        """Return the probability of one of the seven core kinds."""
        for name, p in self.issues:
            if name == kind:
                return p
        raise KeyError(kind)


def _json_scalar(value: HParamValue) -> HParamValue:
    """Return a hyper-parameter as a JSON-native scalar (non-finite floats become None)."""
    if isinstance(value, float):
        return json_float(value)
    return value
