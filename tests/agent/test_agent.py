import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.agent.agent as agent_module
from dynamics_stats import (
    AgentContext,
    ModelFitError,
    TrainingArtifactsAnalyzerAgent,
    TrainingDynamicsConfig,
    UnknownNameError,
    load_run,
    validate_run,
)
from dynamics_stats.calibration import provisional_map
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.io.synthetic import make_run

EXPECTED_ACTION = {
    "divergence": "lower_lr_and_restart",
    "loss_spikes": "clip_gradients",
    "exploding_gradients": "clip_gradients",
    "overfitting": "early_stop_and_regularize",
    "vanishing_gradients": "fix_gradient_flow",
}


def _artifacts(kind, seed=0, strength=2.0, **options):
    # clearly present problems: these tests are about what the agent says once a problem is
    # found; how often problems of each strength are found is the calibration report's job
    return validate_run(make_run(kind, seed=seed, strength=strength, **options)[0])


@pytest.mark.parametrize("kind", sorted(EXPECTED_ACTION))
def test_synthetic_problem_gets_its_action_with_values_from_the_evidence(
    kind, contract, consistent
):
    artifacts = _artifacts(kind)
    result = TrainingArtifactsAnalyzerAgent().analyze(AgentContext(artifacts))
    contract(result)
    action = EXPECTED_ACTION[kind]
    rec = next(r for r in result.recommendations if r.action == action)
    assert kind in rec.finding_ids and rec.basis == "evidence" and rec.values
    assert consistent(result, artifacts) >= 1


def test_clip_text_quotes_the_percentile_and_the_spike_count(contract):
    result = TrainingArtifactsAnalyzerAgent().analyze(
        AgentContext(_artifacts("exploding_gradients"))
    )
    rec = next(r for r in result.recommendations if r.action == "clip_gradients")
    clip = dict(rec.values)["clip_value"]
    assert f"Clip gradients at {clip:.3g}, the 95th percentile" in rec.text
    assert "gradient-norm spikes" in rec.text


def test_train_loss_only_is_partial_with_precise_limitations_and_general_advice(contract):
    steps = np.arange(600)
    frame = pd.DataFrame({"step": steps, "loss": 2.0 / (1 + steps / 50)})
    result = TrainingArtifactsAnalyzerAgent().analyze(AgentContext(validate_run(load_run(frame))))
    contract(result)
    assert result.status == "partial"
    assessed = dict(result.assessed)
    assert not assessed["overfitting"] and assessed["divergence"]
    assert any(line.startswith("'overfitting' was not assessed") for line in result.limitations)
    assert "Detector 'clipping' did not run: needs grad_norm, which the run does not log." in (
        result.limitations
    )
    general = {r.action for r in result.recommendations if r.basis == "general"}
    assert general == {"log_validation", "log_grad_norm", "log_learning_rate"}
    states = {r.name: r.state for r in result.coverage}
    assert states["clipping"] == "skipped" and states["lr_response"] == "skipped"
    factors = dict(result.confidence.factors)
    assert {"no_validation", "no_grad_norm", "no_learning_rate"} <= set(factors)


def test_disabled_and_enabled_detectors_are_recorded(contract):
    artifacts = _artifacts("loss_spikes")
    config = TrainingDynamicsConfig(disabled_detectors=("spikes",))
    result = TrainingArtifactsAnalyzerAgent(config).analyze(AgentContext(artifacts))
    contract(result)
    assert dict(result.assessed)["loss_spikes"] is False and result.status == "partial"
    assert "Detector 'spikes' did not run: turned off in the configuration." in result.limitations
    only = TrainingDynamicsConfig(enabled_detectors=("divergence",))
    result = TrainingArtifactsAnalyzerAgent(only).analyze(AgentContext(artifacts))
    ran = {r.name for r in result.coverage if r.state == "ran"}
    assert ran <= {"divergence", "lr_response"} and "divergence" in ran
    assert sum(r.state == "disabled" for r in result.coverage) == 9


def test_unknown_detector_name_suggests_the_close_one():
    config = TrainingDynamicsConfig(disabled_detectors=("spike",))
    with pytest.raises(UnknownNameError, match="Did you mean 'spikes'.*Available: clipping"):
        TrainingArtifactsAnalyzerAgent(config).analyze(AgentContext(_artifacts("loss_spikes")))


@dataclass(frozen=True, slots=True)
class _BrokenDetector:
    name: ClassVar[str] = "broken"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("loss_spikes",)

    def detect(self, run):
        raise ValueError("synthetic failure")


def test_a_failing_detector_does_not_take_the_others_down(monkeypatch, contract):
    real = agent_module.select_detectors

    def with_broken(config):
        detectors, disabled = real(config)
        return (_BrokenDetector(), *detectors), disabled

    monkeypatch.setattr(agent_module, "select_detectors", with_broken)
    result = TrainingArtifactsAnalyzerAgent().analyze(AgentContext(_artifacts("divergence")))
    contract(result)
    states = {r.name: r.state for r in result.coverage}
    assert states["broken"] == "failed" and states["divergence"] == "ran"
    assert result.probability("divergence") > 0.5 and result.status == "partial"
    assert "detectors_failed" in dict(result.confidence.factors)
    assert any("ValueError: synthetic failure" in line for line in result.limitations)


def test_failed_curve_fits_fall_back_and_are_recorded(monkeypatch, contract):
    import dynamics_stats.curves.smoothing as smoothing

    def fail(y, config):
        raise ModelFitError("forced failure")

    monkeypatch.setattr(smoothing, "_state_space", fail)
    result = TrainingArtifactsAnalyzerAgent().analyze(AgentContext(_artifacts("overfitting")))
    contract(result)
    assert result.status == "partial"
    assert any(r.state == "fallback" for r in result.coverage)
    assert "fit_fallbacks" in dict(result.confidence.factors)
    assert any("EWMA" in line for line in result.limitations)


def test_upstream_validation_raises_confidence_and_is_recorded(contract):
    artifacts = _artifacts("overfitting")
    agent = TrainingArtifactsAnalyzerAgent()
    bare = agent.analyze(AgentContext(artifacts))
    validated = agent.analyze(
        AgentContext(
            artifacts,
            other_agents={"artifact_validation": {"passed": True, "issues": [], "summary": "ok"}},
            hparams={"optimizer.lr": 3e-4},
        )
    )
    contract(validated)
    assert validated.upstream.ran and validated.upstream.passed
    assert validated.other_agents == ("artifact_validation",)
    assert dict(validated.hparams)["optimizer.lr"] == 3e-4
    assert validated.confidence.score == pytest.approx(bare.confidence.score + 0.05)
    assert "validated upstream" in validated.confidence.explanation
    assert "not validated upstream" in bare.confidence.explanation
    assert "optimizer.lr" not in artifacts.hparams  # the input is unchanged


def test_performance_budget_bounds_the_model_size():
    artifacts = _artifacts("stalled", n_steps=3000)
    config = TrainingDynamicsConfig(max_model_points=40)
    details = TrainingArtifactsAnalyzerAgent(config).analyze_in_detail(AgentContext(artifacts))
    assert len(details.modelled.curve("train_loss").steps) <= 40
    assert len(details.result.issues) == 7


def test_risk_names_the_actions_that_lower_it():
    result = TrainingArtifactsAnalyzerAgent().analyze(AgentContext(_artifacts("divergence")))
    assert result.risk.level == "high" and result.risk.drivers[0] == "divergence"
    assert "lower_lr_and_restart" in result.risk.lowered_by
    assert dict(result.risk.contributions)["divergence"] == result.probability("divergence")
    overfit = TrainingArtifactsAnalyzerAgent().analyze(AgentContext(_artifacts("overfitting")))
    keys = {"overfitting": "frac_run_after_best", "validation_plateau": "plateau_frac"}
    fracs = [dict(f.evidence)[keys[f.kind]] for f in overfit.findings if f.kind in keys]
    assert "overfitting" in {f.kind for f in overfit.findings}
    assert overfit.risk.wasted_compute_frac == pytest.approx(max(fracs))
    assert 0.0 < max(fracs) < 1.0


def test_the_configured_calibration_map_is_used(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps(provisional_map(CORE_KINDS).to_dict()))
    config = TrainingDynamicsConfig(calibration=str(path))
    result = TrainingArtifactsAnalyzerAgent(config).analyze(AgentContext(_artifacts("divergence")))
    assert result.calibration.name == "none" and not result.calibration.calibrated
    assert all(f.calibrated is False for f in result.findings)
