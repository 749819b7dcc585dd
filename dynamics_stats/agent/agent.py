"""`TrainingArtifactsAnalyzerAgent`: the analysis pipeline for one run, top to bottom."""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass

from dynamics_stats.agent._observations import observe
from dynamics_stats.agent.confidence import assess_confidence
from dynamics_stats.agent.context import AgentContext
from dynamics_stats.agent.coverage import (
    describe_coverage,
    describe_limitations,
    overall_status,
)
from dynamics_stats.agent.policy import recommend
from dynamics_stats.agent.risk import assess_risk
from dynamics_stats.agent.summary import summarize_run
from dynamics_stats.calibration import Calibrated, CalibrationMap, calibrate, load_map
from dynamics_stats.core.agent_result import AgentResult, AnalysisRecord
from dynamics_stats.core.analysis_config import TrainingDynamicsConfig
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.config import CurvesConfig
from dynamics_stats.core.errors import UnknownNameError
from dynamics_stats.core.results import CalibrationInfo, Recommendation, Status
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.lr_response import LRResponse, relate_loss_slope_to_lr
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors import CORE_KINDS, DETECTORS, default_detectors, run_detectors
from dynamics_stats.detectors.base import Detector, Evidence
from dynamics_stats.detectors.run import DetectorRun

__all__ = ["AnalysisDetails", "TrainingArtifactsAnalyzerAgent"]

_DEFAULT_NAMES = tuple(name for name in DETECTORS if name != "null")
_ROLES_ADVISED = ("val_loss", "grad_norm", "learning_rate")


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


def _check_names(names: tuple[str, ...], field: str) -> None:
    for name in names:
        if name not in DETECTORS:
            close = difflib.get_close_matches(name, DETECTORS, n=2)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownNameError(
                f"TrainingDynamicsConfig.{field} names no detector {name!r}.{hint} "
                f"Available: {', '.join(sorted(DETECTORS))}."
            )


def select_detectors(
    config: TrainingDynamicsConfig,
) -> tuple[tuple[Detector, ...], tuple[str, ...]]:
    """Return the detectors to run and the names the configuration disabled.

    Raises
    ------
    UnknownNameError
        If ``enabled_detectors`` or ``disabled_detectors`` names an unregistered detector.
    """
    enabled = config.enabled_detectors if config.enabled_detectors is not None else _DEFAULT_NAMES
    _check_names(enabled, "enabled_detectors")
    _check_names(config.disabled_detectors, "disabled_detectors")
    disabled = tuple(
        n for n in _DEFAULT_NAMES if n in config.disabled_detectors or n not in enabled
    )
    names = tuple(n for n in enabled if n not in config.disabled_detectors)
    return default_detectors(config.detectors, names=names), disabled


def _missing_roles(artifacts: TrainingArtifacts) -> tuple[str, ...]:
    """Roles worth logging that the run lacks (a validation metric stands for val_loss)."""
    present = set(artifacts.primary)
    if "val_metric" in present:
        present.add("val_loss")
    return tuple(role for role in _ROLES_ADVISED if role not in present)


def _curves_config(config: TrainingDynamicsConfig) -> CurvesConfig:
    curves = config.curves or CurvesConfig()
    if config.max_model_points is None:
        return curves
    smoothing = dataclasses.replace(curves.smoothing, max_points=config.max_model_points)
    return dataclasses.replace(curves, smoothing=smoothing)


def _trends(
    evidence: tuple[Evidence, ...], lr_response: LRResponse
) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    trends = {}
    for item in evidence:
        if item.kind in CORE_KINDS:
            continue
        values = (("score", item.score),) + tuple(item.values)
        if item.onset_step is not None:
            values += (("onset_step", float(item.onset_step)),)
        trends[item.kind] = values
    if lr_response.available:
        trends["lr_response"] = lr_response.to_pairs()
    finite = {k: tuple((n, v) for n, v in vals if math.isfinite(v)) for k, vals in trends.items()}
    return tuple(sorted(finite.items()))


class TrainingArtifactsAnalyzerAgent:
    """The training-dynamics agent: from validated artifacts to an `AgentResult`.

    Parameters
    ----------
    config : TrainingDynamicsConfig or None, default=None
        Settings of every stage; defaults when None.
    calibration : CalibrationMap or None, default=None
        Score-to-probability maps; ``config.calibration`` (a path) or the shipped map
        when None.

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.agent.context import AgentContext
    >>> from dynamics_stats.io.synthetic import make_run
    >>> agent = TrainingArtifactsAnalyzerAgent()
    >>> result = agent.analyze(AgentContext(validate_run(make_run("divergence", seed=0)[0])))
    >>> result.probability("divergence") > 0.5
    True
    """

    def __init__(
        self,
        config: TrainingDynamicsConfig | None = None,
        *,
        calibration: CalibrationMap | None = None,
    ) -> None:
        self.config = config or TrainingDynamicsConfig()
        self.calibration = calibration

    def _map(self) -> CalibrationMap:
        if self.calibration is not None:
            return self.calibration
        return load_map(self.config.calibration, kinds=CORE_KINDS)

    def analyze(self, context: AgentContext) -> AgentResult:
        """Analyse the run in ``context`` and return the JSON-ready result.

        Parameters
        ----------
        context : AgentContext
            The validated run, upstream validation status, other agents' outputs and
            hyper-parameters.

        Returns
        -------
        AgentResult
        """
        return self.analyze_in_detail(context).result

    def analyze_in_detail(self, context: AgentContext) -> AnalysisDetails:
        """Analyse the run and keep the curve models and raw evidence (see `analyze`)."""
        config, artifacts = self.config, context.artifacts_for_analysis()
        detectors, disabled = select_detectors(config)
        cmap = self._map()
        modelled = model_curves(artifacts, _curves_config(config))
        detected = run_detectors(modelled, detectors)
        calibrated = calibrate(detected.evidence, cmap, min_probability=config.min_probability)
        lr_response = relate_loss_slope_to_lr(
            artifacts, n_windows=config.policy.lr_response_windows
        )
        stages = _Stages(
            artifacts=artifacts,
            modelled=modelled,
            detected=detected,
            calibrated=calibrated,
            lr_response=lr_response,
            coverage=describe_coverage(detected, disabled=disabled, lr_response=lr_response),
            calibration=cmap.info,
        )
        result = _result(context, stages, config)
        return AnalysisDetails(result, artifacts, modelled, detected.evidence)


@dataclass(frozen=True, slots=True)
class _Stages:
    """What the pipeline's stages produced, before policy."""

    artifacts: TrainingArtifacts
    modelled: ModelledRun
    detected: DetectorRun
    calibrated: Calibrated
    lr_response: LRResponse
    coverage: tuple[AnalysisRecord, ...]
    calibration: CalibrationInfo


def _recommendations(
    stages: _Stages, config: TrainingDynamicsConfig, *, status: Status, limitations: tuple[str, ...]
) -> tuple[Recommendation, ...]:
    clip_quantile = config.detectors.get("clipping", {}).get("stable_quantile", 0.95)
    observations = observe(
        stages.artifacts,
        stages.detected.evidence,
        lr_response=stages.lr_response,
        clip_quantile=clip_quantile,
    )
    return recommend(
        stages.calibrated.findings,
        limitations if status == "partial" else (),
        observations=observations,
        missing_roles=_missing_roles(stages.artifacts),
        max_lr_factor=config.policy.max_lr_factor,
    )


def _result(context: AgentContext, stages: _Stages, config: TrainingDynamicsConfig) -> AgentResult:
    calibrated, notes = stages.calibrated, stages.modelled.notes
    limitations = describe_limitations(stages.coverage, calibrated.assessed, notes)
    status = overall_status(stages.coverage, calibrated.assessed, notes)
    recommendations = _recommendations(stages, config, status=status, limitations=limitations)
    return AgentResult(
        status=status,
        limitations=limitations,
        run=summarize_run(stages.artifacts),
        issues=calibrated.issues,
        assessed=calibrated.assessed,
        findings=calibrated.findings,
        trends=_trends(stages.detected.evidence, stages.lr_response),
        recommendations=recommendations,
        risk=assess_risk(
            calibrated.issues,
            findings=calibrated.findings,
            recommendations=recommendations,
            policy=config.policy,
        ),
        confidence=assess_confidence(
            stages.artifacts,
            fit_notes=notes,
            upstream=context.upstream_validation,
            failed_detectors=tuple(r.name for r in stages.coverage if r.state == "failed"),
            policy=config.policy,
        ),
        calibration=stages.calibration,
        validation=stages.artifacts.report,
        package_version=_version(),
        upstream=context.upstream_validation,  # type: ignore[arg-type]
        hparams=tuple(sorted((context.hparams or {}).items())),
        coverage=stages.coverage,
        other_agents=tuple(sorted(context.other_agents)),
    )


def _version() -> str:
    from dynamics_stats import __version__

    return __version__
