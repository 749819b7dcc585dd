import numpy as np

from dynamics_stats.core.config import ChangepointConfig, SmoothingConfig
from dynamics_stats.curves import find_changepoints, smooth_curve


def _changepoints(make_series, values, steps=None):
    curve = smooth_curve(make_series(values, steps), config=SmoothingConfig())
    return curve, find_changepoints(curve, config=ChangepointConfig())


def test_step_change_is_found_with_high_probability(make_series, rng):
    n = 5000
    values = np.where(np.arange(n) < 3000, 1.0, 0.5) * np.exp(rng.normal(0, 0.1, n))
    curve, found = _changepoints(make_series, values)
    assert len(found) >= 1
    best = max(found, key=lambda c: c.probability)
    assert abs(best.step - 3000) <= 2 * curve.bin_width_steps and best.probability > 0.9
    assert best.level_after < best.level_before


def test_stationary_noise_has_no_probable_changepoint(make_series):
    for seed in range(5):
        rng = np.random.default_rng(seed)
        _, found = _changepoints(make_series, np.exp(rng.normal(0, 0.1, 4000)))
        assert all(c.probability < 0.5 for c in found)


def test_same_changepoint_at_another_logging_interval(make_series, rng):
    n = 20_000
    steps = np.arange(n)
    values = np.where(steps < 12_000, 1.0, 0.4) * np.exp(rng.normal(0, 0.1, n))
    dense_curve, dense = _changepoints(make_series, values, steps)
    _, sparse = _changepoints(make_series, values[::10], steps[::10])
    assert abs(dense[0].step - sparse[0].step) <= 2 * dense_curve.bin_width_steps


def test_short_curve_has_none(make_series):
    assert _changepoints(make_series, np.linspace(1, 2, 8))[1] == ()


def test_smooth_decays_are_not_cut_into_pieces(make_series):
    """Exponential and power-law decays bend a lot but change behaviour nowhere."""
    steps = np.arange(1, 5001)
    probable = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        rate = rng.uniform(300, 1500)
        shapes = (0.3 + 2.0 * np.exp(-steps / rate), 3.0 * steps ** -rng.uniform(0.2, 0.6))
        for shape in shapes:
            _, found = _changepoints(make_series, shape * np.exp(rng.normal(0, 0.05, len(steps))))
            probable += sum(c.probability >= 0.5 for c in found)
    print(f"probable changepoints on 20 smooth decays: {probable}")
    assert probable <= 2  # of 20 curves; the old piecewise-linear test found 3-5 in each
