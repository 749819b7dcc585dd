import numpy as np
import pytest

from dynamics_stats.detectors._excursions import find_excursions

OPTIONS = {"window": 60, "z_threshold": 6.0, "max_width": 20, "recovery_steps": 60}


def _noise(seed, n=3000, sd=0.01):
    return np.random.default_rng(seed).normal(0, sd, n)


def test_a_spike_is_found_with_its_peak_start_and_height():
    steps = np.arange(3000)
    y = _noise(0)
    y[1000:1004] += [0.5, 0.3, 0.15, 0.05]
    found = find_excursions(steps, y, **OPTIONS)
    assert found.peaks.tolist() == [1000] and found.starts.tolist() == [1000]
    assert found.heights[0] == pytest.approx(0.5, abs=0.03) and found.z[0] > 30
    assert found.n_unrecovered == found.n_wide == 0


def test_dips_set_the_null_and_the_tail_of_a_spike_is_not_a_second_spike():
    steps = np.arange(3000)
    y = _noise(1)
    y[500] -= 0.2  # a dip that comes back: what symmetric noise could do
    y[2000:] += 0.3 * np.exp(-np.arange(1000) / 6.0)
    found = find_excursions(steps, y, **OPTIONS)
    assert found.peaks.tolist() == [2000]
    assert found.null_z > 10 and found.n_null >= 1


def test_wide_bumps_and_jumps_that_stay_up_are_rejected():
    steps = np.arange(3000)
    bump = _noise(2) + 0.3 * np.exp(-0.5 * ((steps - 1500) / 15.0) ** 2)
    found = find_excursions(steps, bump, **OPTIONS)
    assert not len(found.peaks) and found.n_wide >= 1
    shift = _noise(3)
    shift[1500] += 0.5
    shift[1501:] += 0.25  # comes half way down and stays there
    found = find_excursions(steps, shift, **OPTIONS)
    assert not len(found.peaks) and found.n_unrecovered == 1
