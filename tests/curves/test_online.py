"""Streaming statistics: robust window, spike test, Bayesian online changepoints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves.online import (
    OnlineChangepoints,
    RobustWindow,
    SpikeTest,
    to_log_scale,
)


def detections(detector: OnlineChangepoints, values: np.ndarray) -> list[tuple[int, int]]:
    """(update index at which a change was reported, reported start) pairs."""
    found = [(i, detector.update(float(x))) for i, x in enumerate(values)]
    return [(i, start) for i, start in found if start is not None]


def test_robust_window_matches_numpy_on_its_last_values(rng: np.random.Generator) -> None:
    window = RobustWindow(size=32, every=1)
    values = rng.normal(size=500)
    for x in values:
        window.update(float(x))
    last = values[-32:]
    assert window.median == pytest.approx(np.median(last))
    assert window.mad == pytest.approx(np.median(np.abs(last - np.median(last))))


def test_robust_window_ignores_non_finite_values() -> None:
    window = RobustWindow(size=4, every=1)
    for x in [1.0, math.nan, 3.0, math.inf]:
        window.update(x)
    assert window.n_seen == 2
    assert window.median == 2.0


@pytest.mark.parametrize("seed", range(5))
def test_changepoints_find_a_mean_shift_within_a_few_steps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.r_[rng.normal(0, 1, 300), rng.normal(3, 1, 100)]
    found = detections(OnlineChangepoints(), values)
    assert found, "the shift at 300 was not found"
    reported_at, start = found[-1]
    assert 300 <= reported_at <= 310  # within 10 updates of the change
    assert abs(start - 300) <= 3
    assert all(abs(s - 300) <= 3 for _, s in found if _ >= 300)


def test_changepoints_give_no_false_alarm_on_stationary_noise() -> None:
    n_false = 0
    for seed in range(10):
        values = np.random.default_rng(seed).normal(5.0, 0.3, 2000)
        n_false += len(detections(OnlineChangepoints(hazard=1 / 250), values))
    # 20,000 stationary updates: measured 1 (seed 1, early after the warm-up)
    assert n_false <= 2


def test_changepoints_are_invariant_to_the_scale_of_the_data(rng: np.random.Generator) -> None:
    values = np.r_[rng.normal(0, 1, 200), rng.normal(4, 1, 60)]
    small = detections(OnlineChangepoints(), values * 1e-4)
    large = detections(OnlineChangepoints(), values * 1e4 + 7)
    assert small == large
    assert small


def test_changepoints_skip_non_finite_values() -> None:
    detector = OnlineChangepoints()
    assert detector.update(math.nan) is None
    assert detector.n_seen == 0


def test_run_length_posterior_is_a_distribution(rng: np.random.Generator) -> None:
    detector = OnlineChangepoints(max_run_length=40)
    for x in rng.normal(size=300):
        detector.update(float(x))
    probabilities = detector.run_length_probabilities
    assert probabilities.size == 40
    assert probabilities.sum() == pytest.approx(1.0)


def test_spike_test_flags_one_region_per_spike(rng: np.random.Generator) -> None:
    test = SpikeTest()
    values = rng.normal(0, 0.05, 400)
    values[200:203] += 2.0  # one spike region of three points
    values[300] += 2.0
    updates = [test.update(float(x)) for x in values]
    starts = [i for i, u in enumerate(updates) if u.starts_region]
    assert starts == [200, 300]
    assert [i for i, u in enumerate(updates) if u.is_spike] == [200, 201, 202, 300]
    assert updates[200].z_score > 6


def test_spike_test_has_no_false_alarm_on_gaussian_noise(rng: np.random.Generator) -> None:
    test = SpikeTest()
    assert not any(test.update(float(x)).is_spike for x in rng.normal(size=5000))


def test_spike_test_ignores_drops_and_waits_for_enough_points() -> None:
    test = SpikeTest(min_points=5)
    early = [test.update(x) for x in [1.0, 9.0, 1.0, 1.0, 1.0]]
    assert not any(u.is_spike for u in early)
    assert math.isnan(early[0].z_score)
    assert not test.update(-50.0).is_spike  # downward moves are not spikes


def test_state_size_is_bounded_after_100k_updates(rng: np.random.Generator) -> None:
    spikes = SpikeTest(window=64)
    values = rng.normal(size=100_000)
    for x in values:
        spikes.update(float(x))
    assert spikes._stats._buffer.size == 64
    assert spikes._stats.n_seen == 100_000


@pytest.mark.slow
def test_changepoint_state_size_is_bounded_after_100k_updates(
    rng: np.random.Generator,
) -> None:
    detector = OnlineChangepoints(max_run_length=64, max_lag=10)
    for x in rng.normal(size=100_000):
        detector.update(float(x))
    assert detector._log_r.size == detector._mu.size == 2 * 64  # room to append, then compact
    assert detector.run_length_probabilities.size == 64
    assert detector.n_seen == 100_000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hazard": 0.0}, "OnlineChangepoints.hazard"),
        ({"max_lag": 20, "max_run_length": 10}, "OnlineChangepoints.max_run_length"),
        ({"threshold": 1.5}, "OnlineChangepoints.threshold"),
    ],
)
def test_bad_changepoint_parameters_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        OnlineChangepoints(**kwargs)


def test_bad_spike_parameters_are_refused() -> None:
    with pytest.raises(ConfigError, match="SpikeTest.z_threshold"):
        SpikeTest(z_threshold=-1.0)
    with pytest.raises(ConfigError, match="RobustWindow.size"):
        RobustWindow(size=1)


def test_log_scale_only_for_positive_values() -> None:
    assert to_log_scale(1.0) == 0.0
    assert to_log_scale(0.0) == 0.0
    assert to_log_scale(-2.0) == -2.0


def test_spike_test_can_require_a_minimum_jump() -> None:
    strict, loose = SpikeTest(min_points=5, min_jump=1.0), SpikeTest(min_points=5)
    for x in [0.0, 0.01, -0.01, 0.0, 0.005, -0.005]:
        strict.update(x)
        loose.update(x)
    assert loose.update(0.5).is_spike  # far above the noise ...
    assert not strict.update(0.5).is_spike  # ... but below the minimum jump
    assert strict.update(2.0).is_spike


@pytest.mark.parametrize("seed", range(30))
def test_spike_test_on_blocks_matches_one_update_per_value(seed: int) -> None:
    """update_many gives the same z-scores, region starts and state, whatever the blocks."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 1, int(rng.integers(1, 2000)))
    n_spikes = int(rng.integers(0, 40))
    values[rng.integers(0, values.size, n_spikes)] += rng.normal(8, 3, n_spikes)
    n_bad = int(rng.integers(0, 6))
    values[rng.integers(0, values.size, n_bad)] = rng.choice([math.nan, math.inf], n_bad)
    options = {
        "min_jump": float(rng.uniform(0, 2)),
        "cooldown": int(rng.integers(0, 12)),
        "window": int(rng.choice([8, 64, 65])),
        "refresh_every": int(rng.choice([1, 16, 64, 100])),
    }
    one_by_one, blocked = SpikeTest(**options), SpikeTest(**options)
    updates = [one_by_one.update(float(x)) for x in values]
    longest = int(rng.choice([40, 700]))
    z_scores, starts, position = [], [], 0
    while position < values.size:
        block = blocked.update_many(values[position : position + int(rng.integers(1, longest))])
        z_scores.append(block.z_scores)
        starts += [position + i for i in block.region_starts]
        position += block.z_scores.size
    np.testing.assert_array_equal(np.concatenate(z_scores), [u.z_score for u in updates])
    assert starts == [i for i, u in enumerate(updates) if u.starts_region]
    assert (blocked._calm, blocked._stats.median) == (one_by_one._calm, one_by_one._stats.median)


def test_spike_test_refreshes_its_level_every_n_values() -> None:
    test = SpikeTest(window=8, min_points=3, refresh_every=4)
    for x in range(8):
        test.update(float(x))
    level = test._stats.median
    for x in (100.0, 100.0, 100.0):
        test.update(x)
    assert test._stats.median == level  # not refreshed before the 4th value
    test.update(100.0)
    assert test._stats.median > level
