from dynamics_stats.agent.policy import assess_risk, recommend
from dynamics_stats.core.results import Finding


def _finding(kind, p=0.9, onset=100, evidence=()):
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
    )


def test_recommendations_cite_existing_findings_and_merge_same_action():
    findings = (
        _finding("loss_spikes"),
        _finding("exploding_gradients", evidence=(("recommended_clip", 1.8),)),
    )
    recs = recommend(findings)
    ids = {f.id for f in findings}
    assert all(set(r.finding_ids) <= ids for r in recs)
    clip = [r for r in recs if r.action == "clip_gradients"]
    assert len(clip) == 1 and set(clip[0].finding_ids) == ids


def test_overfitting_recommends_the_best_step():
    rec = recommend((_finding("overfitting", onset=1200),))[0]
    assert "1,200" in rec.text and dict(rec.values)["best_step"] == 1200


def test_divergence_uses_the_logged_lr():
    rec = recommend((_finding("divergence", evidence=(("lr_at_onset", 3e-3),)),))[0]
    assert dict(rec.values)["suggested_lr"] == 3e-3 / 5


def test_partial_analysis_adds_labelled_general_advice():
    recs = recommend((), ("Detector 'overfitting' did not run: needs val_loss.",))
    assert len(recs) == 1 and recs[0].general and recs[0].finding_ids == ()


def test_risk_levels_follow_the_combined_probability():
    low = assess_risk((("divergence", 0.05), ("stalled", 0.1)))
    high = assess_risk((("divergence", 0.95), ("stalled", 0.1)))
    assert low.level == "low" and high.level == "high"
    assert high.drivers == ("divergence",)
    assert abs(low.score - (1 - 0.95 * 0.9)) < 1e-12
