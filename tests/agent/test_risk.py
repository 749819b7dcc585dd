import pytest

from dynamics_stats.agent.risk import assess_risk
from dynamics_stats.core.analysis_config import PolicyConfig
from dynamics_stats.core.results import Finding, Recommendation


def _finding(kind, evidence):
    return Finding(kind, kind, kind, 0.9, True, "warning", 2.0, evidence=evidence)


def test_drivers_actions_and_wasted_compute():
    findings = (
        _finding("overfitting", (("frac_run_after_best", 0.4),)),
        _finding("loss_spikes", (("n_spikes", 3.0),)),
    )
    recs = (
        Recommendation("early_stop_and_regularize", "t", ("overfitting",), 2, "e"),
        Recommendation("log_grad_norm", "t", (), 9, "e", general=True),
    )
    risk = assess_risk(
        (("overfitting", 0.8), ("loss_spikes", 0.2), ("stalled", 0.05)),
        findings=findings,
        recommendations=recs,
    )
    # default impact weights: overfitting 0.8, loss_spikes 0.5, stalled 1.0
    assert risk.drivers == ("overfitting",)
    assert [k for k, _ in risk.contributions] == ["overfitting", "loss_spikes", "stalled"]
    assert [w for _, w in risk.contributions] == pytest.approx([0.64, 0.1, 0.05])
    assert risk.lowered_by == ("early_stop_and_regularize",)
    assert risk.wasted_compute_frac == 0.4
    assert risk.score == pytest.approx(1 - 0.36 * 0.9 * 0.95)
    assert "driven by overfitting (weighted 0.64)" in risk.mitigation
    assert "About 40% of the logged steps" in risk.mitigation


def test_levels_follow_the_policy_thresholds():
    issues = (("stalled", 0.5),)
    assert assess_risk(issues).level == "medium"
    assert assess_risk(issues, policy=PolicyConfig(risk_medium=0.1, risk_high=0.4)).level == "high"
    spiky = (("loss_spikes", 0.9),)
    assert assess_risk(spiky).score == pytest.approx(0.45)
    flat = PolicyConfig(risk_weights={"loss_spikes": 1.0})
    assert assess_risk(spiky, policy=flat).score == pytest.approx(0.9)
    quiet = assess_risk((("stalled", 0.1),))
    assert quiet.drivers == () and "keep monitoring" in quiet.mitigation
    assert quiet.wasted_compute_frac is None
