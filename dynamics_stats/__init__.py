"""dynamics_stats: calibrated diagnosis of neural-network training runs from their logs."""

from __future__ import annotations

from dynamics_stats.agent.agent import TrainingArtifactsAnalyzerAgent
from dynamics_stats.agent.analyze import analyze
from dynamics_stats.agent.context import AgentContext
from dynamics_stats.agent.sweep import analyze_sweep_runs
from dynamics_stats.core.agent_result import AgentResult, UpstreamValidation
from dynamics_stats.core.analysis_config import (
    AnalysisConfig,
    TrainingDynamicsConfig,
    load_config,
)
from dynamics_stats.core.artifacts import MetricSeries, TrainingArtifacts
from dynamics_stats.core.config import ValidationConfig
from dynamics_stats.core.errors import (
    ConfigError,
    DataQualityWarning,
    DynamicsStatsError,
    DynamicsStatsWarning,
    FitWarning,
    InputError,
    InvalidRunError,
    LoadError,
    ModelFitError,
    NotFittedError,
    UnknownNameError,
)
from dynamics_stats.core.report import ValidationIssue, ValidationReport
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io import LOADERS, LoadOptions, load_run
from dynamics_stats.io.sweep import load_sweep
from dynamics_stats.validate import infer_role, validate_run

__version__ = "0.1.0"

__all__ = [
    "LOADERS",
    "AgentContext",
    "AgentResult",
    "AnalysisConfig",
    "ConfigError",
    "DataQualityWarning",
    "DynamicsStatsError",
    "DynamicsStatsWarning",
    "FitWarning",
    "InputError",
    "InvalidRunError",
    "LoadError",
    "LoadOptions",
    "MetricSeries",
    "ModelFitError",
    "NotFittedError",
    "RunLog",
    "TrainingArtifacts",
    "TrainingArtifactsAnalyzerAgent",
    "TrainingDynamicsConfig",
    "UnknownNameError",
    "UpstreamValidation",
    "ValidationConfig",
    "ValidationIssue",
    "ValidationReport",
    "__version__",
    "analyze",
    "analyze_sweep_runs",
    "infer_role",
    "load_config",
    "load_run",
    "load_sweep",
    "validate_run",
]
