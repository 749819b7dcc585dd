"""`analyze`: the whole pipeline for one run, readable top to bottom."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dynamics_stats.agent.confidence import assess_confidence
from dynamics_stats.agent.policy import assess_risk, recommend
from dynamics_stats.calibration import CalibrationMap, calibrate, load_map
from dynamics_stats.core.agent_result import AgentResult, MetricSummary, RunSummary
from dynamics_stats.core.analysis_config import AnalysisConfig
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.results import Status
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors import CORE_KINDS, default_detectors, run_detectors
from dynamics_stats.detectors.base import Evidence
from dynamics_stats.detectors.run import DetectorRun
from dynamics_stats.io import load_run
from dynamics_stats.validate import validate_run

__all__ = ["AnalysisDetails", "analyze", "analyze_artifacts", "analyze_in_detail"]


@dataclass(frozen=True, slots=True)
class AnalysisDetails:
    """The result of one analysis together with the intermediate objects behind it.

    Reports that draw curves (HTML, notebooks) need the validated run and the curve
    models as well as the result; this keeps them from fitting the models twice.

    Parameters
    ----------
    result : AgentResult
        What `analyze` returns.
    artifacts : TrainingArtifacts
        The validated run.
    modelled : ModelledRun
        Smoothed curves, changepoints and gradient anomaly scores.
    evidence : tuple of Evidence
        The detectors' raw scores and numbers, before calibration.
    """

    result: AgentResult
    artifacts: TrainingArtifacts
    modelled: ModelledRun
    evidence: tuple[Evidence, ...]


def analyze(
    source: str | Path | pd.DataFrame | RunLog | TrainingArtifacts,
    config: AnalysisConfig | None = None,
    *,
    calibration: CalibrationMap | None = None,
) -> AgentResult:
    """Analyse one training run: load, validate, model, detect, calibrate, recommend.

    Parameters
    ----------
    source : path, DataFrame, RunLog or TrainingArtifacts
        A log file or folder (any supported format), a DataFrame, or an already loaded
        or validated run.
    config : AnalysisConfig or None, default=None
        Settings of every stage; defaults when None.
    calibration : CalibrationMap or None, default=None
        Score-to-probability maps; the shipped map when None.

    Returns
    -------
    AgentResult
        Probabilities of the seven problem kinds, findings, trends, recommendations,
        risk, confidence and what could not be analysed.

    Raises
    ------
    LoadError
        If the log cannot be read.
    InvalidRunError
        If it holds nothing that can be analysed.
    """
    config = config or AnalysisConfig()
    if isinstance(source, TrainingArtifacts):
        artifacts = source
    else:
        artifacts = validate_run(load_run(source, format=config.format), config.validation)
    return analyze_artifacts(artifacts, config, calibration=calibration)


def analyze_artifacts(
    artifacts: TrainingArtifacts,
    config: AnalysisConfig,
    *,
    calibration: CalibrationMap | None = None,
    upstream_validated: bool | None = None,
) -> AgentResult:
    """Analyse an already validated run (the pipeline after validation).

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    config : AnalysisConfig
        Settings of every stage.
    calibration : CalibrationMap or None, default=None
        Score-to-probability maps; the shipped map when None.
    upstream_validated : bool or None, default=None
        Whether an upstream artifact validation ran (lowers confidence when False).

    Returns
    -------
    AgentResult
    """
    return analyze_in_detail(
        artifacts, config, calibration=calibration, upstream_validated=upstream_validated
    ).result


def analyze_in_detail(
    artifacts: TrainingArtifacts,
    config: AnalysisConfig,
    *,
    calibration: CalibrationMap | None = None,
    upstream_validated: bool | None = None,
) -> AnalysisDetails:
    """Analyse a validated run and keep the curve models and raw evidence.

    Parameters are those of `analyze_artifacts`.

    Returns
    -------
    AnalysisDetails
        The result with the validated run, curve models and raw evidence behind it.
    """
    cmap = calibration or load_map(kinds=CORE_KINDS)
    modelled = model_curves(artifacts, config.curves)
    detected = run_detectors(modelled, default_detectors(config.detectors))
    calibrated = calibrate(detected.evidence, cmap, min_probability=config.min_probability)
    limitations = _limitations(detected, dict(calibrated.assessed), modelled.notes)
    recommendations = recommend(calibrated.findings, limitations)
    result = AgentResult(
        status=_status(dict(calibrated.assessed), modelled.notes),
        limitations=limitations,
        run=_summary(artifacts),
        issues=calibrated.issues,
        assessed=calibrated.assessed,
        findings=calibrated.findings,
        trends=_trends(detected.evidence),
        recommendations=recommendations,
        risk=assess_risk(calibrated.issues),
        confidence=assess_confidence(
            artifacts, fit_notes=modelled.notes, upstream_validated=upstream_validated
        ),
        calibration=cmap.info,
        validation=artifacts.report,
        package_version=_version(),
    )
    return AnalysisDetails(result, artifacts, modelled, detected.evidence)


def _version() -> str:
    from dynamics_stats import __version__

    return __version__


def _limitations(detected: DetectorRun, assessed: dict[str, bool], notes: tuple) -> tuple[str, ...]:  # type: ignore[type-arg]
    lines = [f"Detector '{name}' did not run: {reason}." for name, reason in detected.skipped]
    lines += [
        f"'{kind}' was not assessed; its probability is the prior (base rate) of the "
        "calibration corpus."
        for kind, ok in assessed.items()
        if not ok
    ]
    lines += [note.message for note in notes if note.level in ("warning", "fatal")]
    return tuple(lines)


def _status(assessed: dict[str, bool], notes: tuple) -> Status:  # type: ignore[type-arg]
    """Partial when a core kind could not be assessed or a curve model failed."""
    failed = any(note.level in ("warning", "fatal") for note in notes)
    return "partial" if failed or not all(assessed.values()) else "complete"


def _trends(
    evidence: tuple[Evidence, ...],
) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    trends = {}
    for item in evidence:
        if item.kind in CORE_KINDS:
            continue
        values = (("score", item.score),) + tuple(item.values)
        if item.onset_step is not None:
            values += (("onset_step", float(item.onset_step)),)
        trends[item.kind] = tuple((k, v) for k, v in values if math.isfinite(v))
    return tuple(sorted(trends.items()))


def _summary(artifacts: TrainingArtifacts) -> RunSummary:
    metrics = tuple(
        MetricSummary(
            name=m.name,
            role=m.role,
            direction=m.direction,
            n_points=len(m),
            first_step=int(m.steps[0]) if len(m) else None,
            last_step=int(m.steps[-1]) if len(m) else None,
        )
        for m in artifacts.metrics
    )
    last = [m.last_step for m in metrics if m.last_step is not None]
    return RunSummary(
        source=artifacts.source,
        format=artifacts.format,
        step_unit=artifacts.step_unit,
        last_step=max(last) if last else None,
        metrics=metrics,
        primary=tuple(artifacts.primary.items()),
    )
