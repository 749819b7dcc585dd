"""dynamics_stats: calibrated diagnosis of neural-network training runs from their logs.

The public names below are imported on first use (PEP 562), so ``import dynamics_stats``
and the command line do not pay for parts they do not need, such as the sweep analysis
and its scikit-learn and scipy.stats imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# public name -> module that defines it; keep in step with the TYPE_CHECKING imports above
_LAZY: dict[str, str] = {
    "TrainingArtifactsAnalyzerAgent": "dynamics_stats.agent.agent",
    "analyze": "dynamics_stats.agent.analyze",
    "AgentContext": "dynamics_stats.agent.context",
    "analyze_sweep_runs": "dynamics_stats.agent.sweep",
    "AgentResult": "dynamics_stats.core.agent_result",
    "UpstreamValidation": "dynamics_stats.core.agent_result",
    "AnalysisConfig": "dynamics_stats.core.analysis_config",
    "TrainingDynamicsConfig": "dynamics_stats.core.analysis_config",
    "load_config": "dynamics_stats.core.analysis_config",
    "MetricSeries": "dynamics_stats.core.artifacts",
    "TrainingArtifacts": "dynamics_stats.core.artifacts",
    "ValidationConfig": "dynamics_stats.core.config",
    "ConfigError": "dynamics_stats.core.errors",
    "DataQualityWarning": "dynamics_stats.core.errors",
    "DynamicsStatsError": "dynamics_stats.core.errors",
    "DynamicsStatsWarning": "dynamics_stats.core.errors",
    "FitWarning": "dynamics_stats.core.errors",
    "InputError": "dynamics_stats.core.errors",
    "InvalidRunError": "dynamics_stats.core.errors",
    "LoadError": "dynamics_stats.core.errors",
    "ModelFitError": "dynamics_stats.core.errors",
    "NotFittedError": "dynamics_stats.core.errors",
    "UnknownNameError": "dynamics_stats.core.errors",
    "ValidationIssue": "dynamics_stats.core.report",
    "ValidationReport": "dynamics_stats.core.report",
    "RunLog": "dynamics_stats.core.run_log",
    "LOADERS": "dynamics_stats.io",
    "LoadOptions": "dynamics_stats.io",
    "load_run": "dynamics_stats.io",
    "load_sweep": "dynamics_stats.io.sweep",
    "infer_role": "dynamics_stats.validate",
    "validate_run": "dynamics_stats.validate",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first access and cache it in the module (PEP 562)."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'dynamics_stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, imported or not, with the module's own attributes."""
    return sorted(set(globals()) | set(__all__))
