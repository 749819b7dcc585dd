import numpy as np

from dynamics_stats.detectors import ClippingDetector


def _by_kind(run):
    return {e.kind: e for e in ClippingDetector().detect(run)}


def test_without_a_threshold_only_a_recommendation(healthy, modelled):
    steps, loss, norm = healthy(0)
    found = _by_kind(modelled(steps, loss, norm))
    assert set(found) == {"clipping_recommendation"}
    clip = found["clipping_recommendation"].value("recommended_clip")
    assert np.quantile(norm, 0.5) < clip < norm.max()


def test_threshold_below_typical_norms_is_too_aggressive(healthy, modelled):
    steps, loss, norm = healthy(1)
    low = float(np.quantile(norm, 0.2))
    found = _by_kind(modelled(steps, loss, norm, hparams={"gradient_clip_val": low}))
    assert found["clipping_too_aggressive"].score >= 1.0
    high = float(np.quantile(norm, 0.999))
    found = _by_kind(modelled(steps, loss, norm, hparams={"gradient_clip_val": high}))
    assert found["clipping_too_aggressive"].score < 0.1


def test_threshold_far_above_spikes_is_ineffective(healthy, modelled):
    steps, loss, norm = healthy(2)
    spiky = norm.copy()
    spiky[[500, 1500, 2500]] *= 50
    found = _by_kind(modelled(steps, loss, spiky, hparams={"trainer.gradient_clip_val": 1e4}))
    assert found["clipping_ineffective"].score >= 1.0
    assert found["clipping_ineffective"].value("spikes_below_threshold") == 3
