from dynamics_stats.agent._observations import Observations
from dynamics_stats.agent.policy import assess_risk, recommend
from dynamics_stats.core.results import Finding
from dynamics_stats.curves.lr_response import LRResponse


def _finding(kind, p=0.9, onset=100, evidence=(), message=""):
    return Finding(
        id=kind,
        kind=kind,
        detector=kind,
        probability=p,
        calibrated=True,
        severity="warning",
        score=2.0,
        onset_step=onset,
        evidence=evidence,
        message=message,
    )


def test_recommendations_cite_existing_findings_and_merge_same_action():
    findings = (
        _finding("loss_spikes"),
        _finding("exploding_gradients", evidence=(("recommended_clip", 1.8),)),
    )
    obs = Observations(grad_norm_range=(0.5, 40.0))
    recs = recommend(findings, observations=obs)
    ids = {f.id for f in findings}
    assert all(set(r.finding_ids) <= ids for r in recs)
    clip = [r for r in recs if r.action == "clip_gradients"]
    assert len(clip) == 1 and set(clip[0].finding_ids) == ids
    assert dict(clip[0].values)["clip_value"] == 1.8


def test_clip_uses_the_clipping_detectors_counts_and_stays_in_the_observed_range():
    facts = {
        "clipping_recommendation": {
            "recommended_clip": 1.8,
            "n_norm_spikes": 9.0,
            "spikes_clipped_at_recommended": 7.0,
        }
    }
    obs = Observations(facts=facts, grad_norm_range=(0.3, 25.0))
    rec = recommend((_finding("loss_spikes"),), observations=obs)[0]
    assert "Clip gradients at 1.8, the 95th percentile" in rec.text
    assert "would have clipped 7 of the 9 gradient-norm spikes" in rec.text
    outside = Observations(facts=facts, grad_norm_range=(2.0, 25.0))
    rec = recommend((_finding("loss_spikes"),), observations=outside)[0]
    assert "clip_value" not in dict(rec.values)


def test_overfitting_stops_at_a_logged_step_and_quotes_the_gap_growth():
    finding = _finding(
        "overfitting",
        onset=1190,
        evidence=(("best_step", 1190.0), ("gap_growth_decades", 0.6), ("frac_run_after_best", 0.4)),
    )
    obs = Observations(val_steps=(800, 1000, 1200, 1400))
    rec = recommend((finding,), observations=obs)[0]
    values = dict(rec.values)
    assert values["stop_step"] == 1200 and "step 1,200" in rec.text
    assert abs(values["gap_growth_factor"] - 10**0.6) < 1e-9 and "grew 4x" in rec.text
    assert "last 40% of the run" in rec.text


def test_divergence_uses_the_logged_lr():
    finding = _finding("divergence", evidence=(("lr_at_onset", 3e-3),))
    rec = recommend((finding,))[0]
    assert dict(rec.values)["suggested_lr"] == 3e-3 / 5
    assert "from 0.003 to about 0.0006" in rec.text


def test_lr_too_high_quotes_the_fastest_range_and_a_supporting_correlation():
    finding = _finding(
        "lr_too_high",
        evidence=(("suggested_lr", 1e-3), ("best_lr_low", 5e-4), ("best_lr_high", 1.2e-3)),
    )
    response = LRResponse(True, spearman=-0.7, ci_low=-0.9, ci_high=-0.2, n_windows=12)
    obs = Observations(lr_peak=3e-3, lr_response=response)
    rec = recommend((finding,), observations=obs)[0]
    assert rec.action == "lower_lr"
    assert rec.text.startswith(
        "Lower the peak learning rate from 0.003 to about 0.001: the loss fell fastest at "
        "learning rates in [0.0005, 0.0012]."
    )
    assert "Spearman -0.70, 95% CI [-0.90, -0.20]" in rec.text
    positive = LRResponse(True, spearman=0.7, ci_low=0.2, ci_high=0.9, n_windows=12)
    contrary = Observations(lr_peak=3e-3, lr_response=positive)
    assert "Spearman" not in recommend((finding,), observations=contrary)[0].text


def test_a_suggestion_that_points_the_wrong_way_is_dropped():
    finding = _finding("lr_too_high", evidence=(("suggested_lr", 5e-3),))
    assert recommend((finding,), observations=Observations(lr_peak=3e-3)) == ()


def test_partial_analysis_adds_labelled_general_advice():
    recs = recommend((), ("Detector 'overfitting' did not run: needs val_loss.",))
    assert len(recs) == 1 and recs[0].general and recs[0].finding_ids == ()
    assert recs[0].basis == "general"
    specific = recommend((), ("x",), missing_roles=("val_loss", "grad_norm"))
    assert [r.action for r in specific] == ["log_validation", "log_grad_norm"]
    assert recommend(()) == ()


def test_risk_levels_follow_the_combined_probability():
    low = assess_risk((("divergence", 0.05), ("stalled", 0.1)))
    high = assess_risk((("divergence", 0.95), ("stalled", 0.1)))
    assert low.level == "low" and high.level == "high"
    assert high.drivers == ("divergence",)
    assert abs(low.score - (1 - 0.95 * 0.9)) < 1e-12


def _lr_obs():
    return Observations(lr_peak=1e-3, lr_last=1e-4)


def test_raise_and_lower_are_never_advised_together_the_more_probable_side_wins():
    stalled, oscillating = _finding("stalled", p=0.9), _finding("oscillation", p=0.6)
    actions = {r.action: r for r in recommend((stalled, oscillating), observations=_lr_obs())}
    assert "raise_lr" in actions and "lower_lr_or_decay" not in actions
    assert actions["damp_without_lowering_lr"].finding_ids == ("oscillation",)
    assert "larger batch" in actions["damp_without_lowering_lr"].text

    stalled, oscillating = _finding("stalled", p=0.6), _finding("oscillation", p=0.9)
    actions = {r.action: r for r in recommend((stalled, oscillating), observations=_lr_obs())}
    assert "raise_lr" not in actions and "lower_lr_or_decay" in actions
    assert actions["check_pipeline"].finding_ids == ("stalled",)


def test_divergence_always_beats_raising_the_lr():
    findings = (_finding("stalled", p=0.99), _finding("divergence", p=0.6))
    actions = {r.action for r in recommend(findings, observations=_lr_obs())}
    assert actions == {"lower_lr_and_restart", "check_pipeline"}
