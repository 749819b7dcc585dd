import numpy as np
import pytest

from dynamics_stats.core.config import SmoothingConfig
from dynamics_stats.curves import slope_probability, smooth_curve

CONFIG = SmoothingConfig()


def _decay(n, rng, noise=0.1):
    steps = np.arange(n)
    clean = 0.3 + 2 * (1 + steps / (n / 30)) ** -0.7
    return steps, clean, clean * np.exp(rng.normal(0, noise, n))


@pytest.mark.parametrize("n", [300, 20_000])
def test_band_covers_the_true_curve(make_series, rng, n):
    steps, clean, noisy = _decay(n, rng)
    curve = smooth_curve(make_series(noisy), config=CONFIG)
    truth = np.log10(0.3 + 2 * (1 + curve.steps / (n / 30)) ** -0.7)
    covered = np.abs(curve.level - truth) <= 2 * curve.level_se + 0.01
    assert covered.mean() > 0.85
    assert curve.converged and curve.method == "smooth_trend" and curve.log_scale


def test_slope_probabilities_follow_the_trend(make_series, rng):
    steps, _, noisy = _decay(3000, rng)
    curve = smooth_curve(make_series(noisy), config=CONFIG)
    assert slope_probability(curve, start_step=0, end_step=500, positive=False) > 0.95
    rising = smooth_curve(make_series(noisy[::-1].copy()), config=CONFIG)
    assert slope_probability(rising, start_step=2500, end_step=3000, positive=True) > 0.95


def test_scale_changes_only_shift_the_log_level(make_series, rng):
    _, _, noisy = _decay(2000, rng)
    a = smooth_curve(make_series(noisy), config=CONFIG)
    b = smooth_curve(make_series(noisy * 1000), config=CONFIG)
    np.testing.assert_allclose(b.level - 3.0, a.level, atol=1e-4)
    np.testing.assert_allclose(b.slope, a.slope, atol=1e-6)


def test_logging_interval_barely_changes_the_level(make_series, rng):
    steps, _, noisy = _decay(20_000, rng)
    dense = smooth_curve(make_series(noisy, steps), config=CONFIG)
    sparse = smooth_curve(make_series(noisy[::10], steps[::10]), config=CONFIG)
    # bins hold 10x fewer points when sparse; the steep first bins differ most
    np.testing.assert_allclose(dense.level[5:], sparse.level[5:], atol=0.02)
    assert np.max(np.abs(dense.level - sparse.level)) < 0.06


def test_short_nan_and_inf_inputs(make_series):
    assert smooth_curve(make_series([1.0, 2.0]), config=CONFIG).method == "too_short"
    values = np.linspace(2, 1, 50)
    values[10] = np.nan
    values[20] = np.inf
    curve = smooth_curve(make_series(values), config=CONFIG)
    assert np.isfinite(curve.level).all() and curve.n_raw_points == 48


def test_fallback_when_statsmodels_fails(make_series, monkeypatch, rng):
    import statsmodels.tsa.statespace.kalman_smoother as kalman_smoother

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(kalman_smoother, "KalmanSmoother", broken)
    curve = smooth_curve(make_series(_decay(500, rng)[2]), config=CONFIG)
    assert curve.method == "ewma_fallback" and not curve.converged
    assert np.isfinite(curve.level).all()


def test_deterministic(make_series, rng):
    _, _, noisy = _decay(1000, rng)
    a = smooth_curve(make_series(noisy), config=CONFIG)
    b = smooth_curve(make_series(noisy), config=CONFIG)
    np.testing.assert_array_equal(a.level, b.level)
