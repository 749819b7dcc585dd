"""`analyze`: the whole pipeline for one run, as one function for notebooks and scripts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dynamics_stats.agent.agent import AnalysisDetails, TrainingArtifactsAnalyzerAgent
from dynamics_stats.agent.context import AgentContext
from dynamics_stats.calibration import CalibrationMap
from dynamics_stats.core.agent_result import AgentResult, UpstreamValidation
from dynamics_stats.core.analysis_config import TrainingDynamicsConfig
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io import load_run
from dynamics_stats.validate import validate_run

__all__ = ["AnalysisDetails", "analyze", "analyze_artifacts", "analyze_in_detail"]


def analyze(
    source: str | Path | pd.DataFrame | RunLog | TrainingArtifacts,
    config: TrainingDynamicsConfig | None = None,
    *,
    calibration: CalibrationMap | None = None,
) -> AgentResult:
    """Analyse one training run: load, validate, model, detect, calibrate, recommend.

    Parameters
    ----------
    source : path, DataFrame, RunLog or TrainingArtifacts
        A log file or folder (any supported format), a DataFrame, or an already loaded
        or validated run.
    config : TrainingDynamicsConfig or None, default=None
        Settings of every stage; defaults when None.
    calibration : CalibrationMap or None, default=None
        Score-to-probability maps; the configured or shipped map when None.

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

    Examples
    --------
    >>> from dynamics_stats.io.synthetic import make_run
    >>> result = analyze(make_run("overfitting", seed=0)[0])
    >>> result.status in ("complete", "partial"), 0.0 <= result.risk.score <= 1.0
    (True, True)
    """
    config = config or TrainingDynamicsConfig()
    if isinstance(source, TrainingArtifacts):
        artifacts = source
    else:
        artifacts = validate_run(load_run(source, format=config.format), config.validation)
    return analyze_artifacts(artifacts, config, calibration=calibration)


def analyze_artifacts(
    artifacts: TrainingArtifacts,
    config: TrainingDynamicsConfig | None = None,
    *,
    calibration: CalibrationMap | None = None,
    upstream_validated: bool | None = None,
) -> AgentResult:
    """Analyse an already validated run (the pipeline after validation).

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    config : TrainingDynamicsConfig or None, default=None
        Settings of every stage.
    calibration : CalibrationMap or None, default=None
        Score-to-probability maps; the configured or shipped map when None.
    upstream_validated : bool or None, default=None
        Whether an upstream artifact validation ran (lowers confidence when not).

    Returns
    -------
    AgentResult
    """
    return analyze_in_detail(
        artifacts, config, calibration=calibration, upstream_validated=upstream_validated
    ).result


def analyze_in_detail(
    artifacts: TrainingArtifacts,
    config: TrainingDynamicsConfig | None = None,
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
    context = AgentContext(
        artifacts, upstream_validation=UpstreamValidation(ran=upstream_validated)
    )
    agent = TrainingArtifactsAnalyzerAgent(config, calibration=calibration)
    return agent.analyze_in_detail(context)
