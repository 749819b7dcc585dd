import numpy as np

from dynamics_stats.detectors import SpikeDetector

SPIKES = [700, 1400, 2100]


def _evidence(run):
    (evidence,) = SpikeDetector().detect(run)
    return evidence


def _spiked(loss, factor=8.0):
    out = loss.copy()
    out[SPIKES] *= factor
    return out


def test_recovered_spikes_rank_above_heavy_tailed_noise(healthy, modelled):
    spiky, clean = [], []
    for seed in range(5):
        steps, loss, norm = healthy(seed)
        spiky.append(_evidence(modelled(steps, _spiked(loss), norm)).score)
        clean.append(_evidence(modelled(steps, loss, norm)).score)
    assert min(spiky) > max(clean)
    assert min(spiky) >= 1.0


def test_spike_steps_are_reported(healthy, modelled):
    steps, loss, norm = healthy(0)
    evidence = _evidence(modelled(steps, _spiked(loss), norm))
    assert set(SPIKES) <= set(evidence.steps)
    assert evidence.onset_step <= SPIKES[0]


def test_a_level_shift_is_not_a_spike(healthy, modelled):
    steps, loss, norm = healthy(3)
    shifted = loss.copy()
    shifted[1500:] *= 8.0  # jumps and stays up: divergence-like, not a spike
    evidence = _evidence(modelled(steps, shifted, norm))
    assert not any(1490 <= s <= 1560 for s in evidence.steps)
    assert evidence.score < 1.0


def test_scale_invariance(healthy, modelled):
    steps, loss, norm = healthy(4)
    a = _evidence(modelled(steps, _spiked(loss), norm)).score
    b = _evidence(modelled(steps, _spiked(loss), norm, scale=1e3)).score
    assert abs(a - b) < 1e-9


def test_too_short_run_scores_zero(modelled):
    run = modelled(np.arange(10), np.linspace(2, 1, 10))
    assert _evidence(run).score == 0.0
