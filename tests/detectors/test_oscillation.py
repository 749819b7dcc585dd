import numpy as np

from dynamics_stats.detectors import OscillationDetector


def _score(run):
    return OscillationDetector().detect(run)[0].score


def test_persistent_swings_rank_above_healthy_noise(healthy, modelled):
    for seed in range(4):
        steps, loss, norm = healthy(seed)
        swinging = loss * np.exp(1.0 * np.sin(steps * 2.5) * (steps > 800))
        assert _score(modelled(steps, swinging, norm)) >= 1.0 > _score(modelled(steps, loss, norm))


def test_isolated_spikes_are_not_oscillation(healthy, modelled):
    steps, loss, norm = healthy(0)
    spiky = loss.copy()
    spiky[[700, 1400, 2100]] *= 8
    assert _score(modelled(steps, spiky, norm)) < 1.0


def test_scale_invariance(healthy, modelled):
    steps, loss, norm = healthy(1)
    swinging = loss * np.exp(0.8 * np.sin(steps * 2.5))
    a, b = (
        _score(modelled(steps, swinging, norm)),
        _score(modelled(steps, swinging, norm, scale=50.0)),
    )
    assert abs(a - b) < 1e-9
