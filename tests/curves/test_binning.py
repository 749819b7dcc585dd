import numpy as np
import pandas as pd

from dynamics_stats.curves import bin_series


def test_short_series_pass_through():
    steps, values, width = bin_series(np.arange(0, 50, 5), np.arange(10.0), max_points=20)
    assert steps.tolist() == list(range(0, 50, 5)) and width == 5.0


def test_bins_hold_medians_of_finite_values(rng):
    steps = np.arange(10_000)
    values = rng.normal(size=10_000)
    values[::97] = np.nan
    bin_steps, medians, width = bin_series(steps, values, max_points=100)
    assert len(bin_steps) == 100 and width == 100.0
    expected = pd.Series(values).groupby(steps // 100).median().to_numpy()
    np.testing.assert_allclose(medians, expected)


def test_bins_are_in_steps_not_points():
    dense = bin_series(np.arange(10_000), np.arange(10_000.0), max_points=50)
    sparse = bin_series(np.arange(0, 10_000, 10), np.arange(0, 10_000.0, 10), max_points=50)
    np.testing.assert_allclose(dense[0], sparse[0], atol=10)
    np.testing.assert_allclose(dense[1], sparse[1], atol=10)
