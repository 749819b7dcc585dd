"""What validation found and repaired: `ValidationIssue` and `ValidationReport`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from dynamics_stats.core.types import JSONValue

__all__ = ["IssueLevel", "ValidationIssue", "ValidationReport"]

IssueLevel: TypeAlias = Literal["info", "repaired", "warning", "fatal"]


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One thing found in a log while loading or validating it.

    Parameters
    ----------
    code : str
        Stable machine name, e.g. ``"duplicate_steps"``.
    level : {"info", "repaired", "warning", "fatal"}
        ``"repaired"`` means the data were changed and the change is described here;
        ``"fatal"`` means the run cannot be analysed.
    message : str
        One plain sentence: what, where, what was done.
    metric : str or None, default=None
        Source name of the metric concerned, if any.
    n_affected : int, default=0
        How many values were affected.
    lines : tuple of int, default=()
        Up to ten source line or row numbers (1-based) that show the problem.
    hint : str, default=""
        How to fix it, when the user can.
    """

    code: str
    level: IssueLevel
    message: str
    metric: str | None = None
    n_affected: int = 0
    lines: tuple[int, ...] = ()
    hint: str = ""

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the issue as JSON-native values."""
        return {
            "code": self.code,
            "level": self.level,
            "message": self.message,
            "metric": self.metric,
            "n_affected": self.n_affected,
            "lines": list(self.lines),
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> ValidationIssue:
        """Rebuild an issue written by `to_dict`."""
        lines = data.get("lines") or []
        return cls(
            code=str(data["code"]),
            level=data["level"],  # type: ignore[arg-type]
            message=str(data["message"]),
            metric=None if data.get("metric") is None else str(data["metric"]),
            n_affected=int(data.get("n_affected") or 0),  # type: ignore[arg-type]
            lines=tuple(int(x) for x in lines),  # type: ignore[union-attr, arg-type]
            hint=str(data.get("hint") or ""),
        )


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every issue found in one run, in the order found.

    Parameters
    ----------
    source : str
        The path or description of the run.
    issues : tuple of ValidationIssue, default=()
        Issues found while loading and validating.
    """

    source: str
    issues: tuple[ValidationIssue, ...] = ()

    @property
    def is_fatal(self) -> bool:
        """Whether any issue makes the run unusable."""
        return any(issue.level == "fatal" for issue in self.issues)

    def with_issues(self, *issues: ValidationIssue) -> ValidationReport:
        """Return a copy with more issues appended."""
        return ValidationReport(self.source, self.issues + tuple(issues))

    def by_level(self, level: IssueLevel) -> tuple[ValidationIssue, ...]:
        """Return the issues of one level."""
        return tuple(issue for issue in self.issues if issue.level == level)

    def summary(self) -> str:
        """Return one line per issue, for terminals."""
        if not self.issues:
            return "no problems found"
        return "\n".join(f"[{i.level}] {i.message}" for i in self.issues)

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the report as JSON-native values."""
        return {"source": self.source, "issues": [i.to_dict() for i in self.issues]}

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> ValidationReport:
        """Rebuild a report written by `to_dict`."""
        raw = data.get("issues") or []
        return cls(
            source=str(data["source"]),
            issues=tuple(ValidationIssue.from_dict(i) for i in raw),  # type: ignore[arg-type, union-attr]
        )
