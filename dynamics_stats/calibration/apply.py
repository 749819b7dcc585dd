"""`calibrate`: turn detector evidence into findings with calibrated probabilities."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dynamics_stats.calibration.maps import CalibrationMap
from dynamics_stats.core.results import Finding
from dynamics_stats.detectors.base import CORE_KINDS, Evidence

__all__ = ["Calibrated", "calibrate"]


@dataclass(frozen=True, slots=True)
class Calibrated:
    """Findings and per-kind probabilities of one run.

    Parameters
    ----------
    findings : tuple of Finding
        Evidence worth reporting, most probable first.
    issues : tuple of (str, float)
        For each core kind, its probability (the prior when it could not be assessed).
    assessed : tuple of (str, bool)
        For each core kind, whether any detector assessed it.
    """

    findings: tuple[Finding, ...]
    issues: tuple[tuple[str, float], ...]
    assessed: tuple[tuple[str, bool], ...]


def _strongest(evidence: tuple[Evidence, ...]) -> dict[str, Evidence]:
    best: dict[str, Evidence] = {}
    for item in evidence:
        current = best.get(item.kind)
        if current is None or item.score > current.score:
            best[item.kind] = item
    return best


def _finding(item: Evidence, probability: float | None, calibrated: bool) -> Finding:
    evidence = tuple((k, v) for k, v in item.values if math.isfinite(v))
    return Finding(
        id=item.kind,
        kind=item.kind,
        detector=item.detector,
        probability=probability,
        calibrated=calibrated and probability is not None,
        severity=item.severity,
        score=item.score if math.isfinite(item.score) else 0.0,
        metric=item.metric,
        onset_step=item.onset_step,
        end_step=item.end_step,
        steps=item.steps,
        evidence=evidence,
        message=item.message,
    )


def calibrate(
    evidence: tuple[Evidence, ...], cmap: CalibrationMap, *, min_probability: float = 0.5
) -> Calibrated:
    """Map each kind's strongest raw score to a probability and keep what is worth reporting.

    A core kind becomes a finding when its probability is at least ``min_probability``.
    A further kind without a calibration map becomes a finding (probability None) when its
    detector rated it ``warning`` or ``critical``.

    Parameters
    ----------
    evidence : tuple of Evidence
        Everything the detectors emitted.
    cmap : CalibrationMap
        The maps to use.
    min_probability : float, default=0.5
        Reporting threshold for calibrated kinds.

    Returns
    -------
    Calibrated
    """
    best = _strongest(evidence)
    scores = {kind: item.score for kind, item in best.items()}
    issues, assessed, findings = [], [], []
    for kind in CORE_KINDS:
        item = best.get(kind)
        p = None if item is None else cmap.probability(kind, item.score, all_scores=scores)
        prior = cmap.prior(kind)
        issues.append((kind, p if p is not None else (prior if prior is not None else 0.0)))
        assessed.append((kind, p is not None))
    for kind, item in best.items():
        p = cmap.probability(kind, item.score, all_scores=scores)
        report = p >= min_probability if p is not None else item.severity != "info"
        if report:
            findings.append(_finding(item, p, cmap.info.calibrated))
    findings.sort(key=lambda f: (-(f.probability or 0.0), f.kind))
    return Calibrated(tuple(findings), tuple(issues), tuple(assessed))
