"""What was and was not analysed: coverage records, limitations and status (no statistics)."""

from __future__ import annotations

from dynamics_stats.core.agent_result import AnalysisRecord
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.results import Status
from dynamics_stats.curves.lr_response import LRResponse
from dynamics_stats.detectors.base import Evidence
from dynamics_stats.detectors.run import DetectorRun

__all__ = ["describe_coverage", "describe_limitations", "overall_status"]

_FALLBACK = "a curve model failed, so it used a simplified heuristic (raw values, no model)"


def _fell_back(name: str, evidence: tuple[Evidence, ...]) -> bool:
    return any(e.detector == name and e.value("used_fallback", 0.0) >= 1.0 for e in evidence)


def describe_coverage(
    detected: DetectorRun,
    *,
    disabled: tuple[str, ...] = (),
    lr_response: LRResponse | None = None,
) -> tuple[AnalysisRecord, ...]:
    """Return one record per analysis: ran, fallback, skipped, failed or disabled.

    Parameters
    ----------
    detected : DetectorRun
        What running the detectors produced.
    disabled : tuple of str, default=()
        Detectors the configuration turned off.
    lr_response : LRResponse or None, default=None
        The loss-slope / learning-rate relation, if it was attempted.

    Returns
    -------
    tuple of AnalysisRecord
    """
    records = []
    for name in detected.ran:
        if _fell_back(name, detected.evidence):
            records.append(AnalysisRecord(name, "fallback", _FALLBACK))
        else:
            records.append(AnalysisRecord(name, "ran"))
    for name, reason in detected.skipped:
        state = "failed" if reason.startswith("failed") else "skipped"
        records.append(AnalysisRecord(name, state, reason))
    records += [
        AnalysisRecord(name, "disabled", "turned off in the configuration") for name in disabled
    ]
    if lr_response is not None:
        state = "ran" if lr_response.available else "skipped"
        records.append(AnalysisRecord("lr_response", state, lr_response.reason))
    return tuple(records)


def describe_limitations(
    coverage: tuple[AnalysisRecord, ...],
    assessed: tuple[tuple[str, bool], ...],
    fit_notes: tuple[ValidationIssue, ...],
) -> tuple[str, ...]:
    """Return what could not be analysed and why, one plain sentence each.

    Parameters
    ----------
    coverage : tuple of AnalysisRecord
        From `describe_coverage`.
    assessed : tuple of (str, bool)
        For each core kind, whether a detector assessed it.
    fit_notes : tuple of ValidationIssue
        Notes of the curve models.

    Returns
    -------
    tuple of str
    """
    lines = []
    for record in coverage:
        if record.state in ("skipped", "failed", "disabled") and record.name != "lr_response":
            lines.append(f"Detector '{record.name}' did not run: {record.reason}.")
        elif record.state == "fallback":
            lines.append(f"Detector '{record.name}' ran on a fallback: {record.reason}.")
        elif record.name == "lr_response" and record.state == "skipped":
            lines.append(
                f"The loss-slope / learning-rate relation was not computed: {record.reason}."
            )
    lines += [
        f"'{kind}' was not assessed; its probability is the prior (base rate) of the "
        "calibration corpus."
        for kind, ok in assessed
        if not ok
    ]
    lines += [note.message for note in fit_notes if note.level in ("warning", "fatal")]
    return tuple(lines)


def overall_status(
    coverage: tuple[AnalysisRecord, ...],
    assessed: tuple[tuple[str, bool], ...],
    fit_notes: tuple[ValidationIssue, ...],
) -> Status:
    """Return ``"complete"``, or ``"partial"`` when the analysis was degraded.

    Degraded: a core kind was not assessed, a curve fit failed, or a detector failed or
    fell back to a heuristic.
    """
    failed_fit = any(note.level in ("warning", "fatal") for note in fit_notes)
    degraded = any(r.state in ("failed", "fallback") for r in coverage if r.name != "lr_response")
    complete = all(ok for _, ok in assessed) and not failed_fit and not degraded
    return "complete" if complete else "partial"
