import numpy as np

from dynamics_stats.detectors import GradientDetector


def _by_kind(run):
    return {e.kind: e for e in GradientDetector().detect(run)}


def test_sustained_explosion_ranks_above_a_single_benign_outlier(healthy, modelled):
    for seed in range(4):
        steps, loss, norm = healthy(seed)
        exploded = norm.copy()
        exploded[1500:1530] *= 100
        outlier = norm.copy()
        outlier[1700] *= 30
        sick = _by_kind(modelled(steps, loss, exploded))["exploding_gradients"]
        benign = _by_kind(modelled(steps, loss, outlier))["exploding_gradients"]
        fine = _by_kind(modelled(steps, loss, norm))["exploding_gradients"]
        assert sick.score >= 1.0 > benign.score and fine.score < 1.0
        assert abs(sick.onset_step - 1500) <= 10


def test_vanishing_norm_with_a_flat_loss(healthy, modelled, rng):
    steps, loss, norm = healthy(0)
    vanished, flat = norm.copy(), loss.copy()
    vanished[1200:] *= 1e-4
    flat[1200:] = flat[1200] * np.exp(rng.normal(0, 0.02, len(steps) - 1200))
    evidence = _by_kind(modelled(steps, flat, vanished))["vanishing_gradients"]
    assert evidence.score >= 1.0 and abs(evidence.onset_step - 1200) < 200
    healthy_score = _by_kind(modelled(steps, loss, norm))["vanishing_gradients"].score
    assert healthy_score < 0.5


def test_norm_that_shrinks_while_the_loss_improves_is_not_vanishing(modelled):
    steps = np.arange(3000)
    loss = 3.0 * (1 + steps / 50) ** -1.0
    norm = 10 * (1 + steps / 50) ** -1.2
    assert _by_kind(modelled(steps, loss, norm))["vanishing_gradients"].score < 1.0


def test_without_a_norm_only_exploding_is_inferred(healthy, modelled):
    steps, loss, _ = healthy(1)
    found = _by_kind(modelled(steps, loss))
    assert set(found) == {"exploding_gradients"}
    assert found["exploding_gradients"].value("inferred") == 1.0


def test_recommended_clip_lies_inside_the_observed_norms(healthy, modelled):
    steps, loss, norm = healthy(2)
    clip = _by_kind(modelled(steps, loss, norm))["exploding_gradients"].value("recommended_clip")
    assert norm.min() < clip < norm.max()
