"""Pair tests: Spearman with bootstrap interval, Kendall, binned Kruskal-Wallis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dynamics_stats.sweeps._encoding import encode_parameters
from dynamics_stats.sweeps.correlate import BootstrapRanks, associate_pair


def _param(values, name: str = "x"):
    encoded, _ = encode_parameters(pd.DataFrame({name: values}))
    return encoded[0]


def test_monotone_effect_matches_scipy_and_its_interval_covers_it(rng) -> None:
    x = rng.uniform(size=200)
    y = x + rng.normal(0, 0.3, 200)
    test = associate_pair(_param(x), "y", y, BootstrapRanks(300, 0), alpha=0.05)
    assert test.spearman == pytest.approx(stats.spearmanr(x, y).statistic)
    assert test.kendall == pytest.approx(stats.kendalltau(x, y).statistic)
    low, high = test.spearman_interval
    assert low < test.spearman < high
    assert high - low < 0.25
    assert test.kendall_interval[0] < test.kendall < test.kendall_interval[1]
    assert test.p_value < 1e-10


def test_bootstrap_interval_covers_the_true_correlation_in_most_samples() -> None:
    """Coverage of the 90% percentile interval over 40 bivariate-normal samples (rho = 0.5)."""
    true_rho = 6 / np.pi * np.arcsin(0.5 / 2)  # Spearman's rho of a bivariate normal
    covered = 0
    for seed in range(40):
        gen = np.random.default_rng(seed)
        z = gen.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=80)
        test = associate_pair(_param(z[:, 0]), "y", z[:, 1], BootstrapRanks(200, seed), alpha=0.1)
        covered += test.spearman_interval[0] <= true_rho <= test.spearman_interval[1]
    # Binomial(40, 0.9): P(covered <= 30) < 2%.
    assert covered > 30


def test_u_shaped_effect_is_caught_by_the_binned_test(rng) -> None:
    x = rng.uniform(-1, 1, 150)
    y = x**2 + rng.normal(0, 0.05, 150)
    test = associate_pair(_param(x), "y", y, BootstrapRanks(100, 0), alpha=0.05)
    assert abs(test.spearman) < 0.2
    assert test.kruskal_p_value < 1e-10
    assert test.p_value == pytest.approx(
        min(1.0, 2 * min(test.spearman_p_value, test.kruskal_p_value))
    )
    assert test.epsilon_squared > 0.5


def test_categorical_uses_kruskal_wallis_with_epsilon_squared(rng) -> None:
    levels = rng.choice(["a", "b", "c"], 90)
    y = (levels == "b") * 2.0 + rng.normal(0, 0.5, 90)
    test = associate_pair(_param(levels), "y", y, BootstrapRanks(100, 0), alpha=0.05)
    h, p = stats.kruskal(*(y[levels == lv] for lv in "abc"))
    assert test.p_value == pytest.approx(p)
    assert test.epsilon_squared == pytest.approx(h / 89)
    assert test.spearman is None


def test_missing_and_constant_values_give_no_test(rng) -> None:
    x = rng.uniform(size=30)
    y = rng.normal(size=30)
    y[:10] = np.nan
    test = associate_pair(_param(x), "y", y, BootstrapRanks(100, 0), alpha=0.05)
    assert test.n == 20
    flat = associate_pair(_param(x), "y", np.ones(30), BootstrapRanks(100, 0), alpha=0.05)
    assert flat.p_value is None and flat.spearman is None


def test_bootstrap_ranks_are_cached_per_rows_and_column(rng) -> None:
    boot = BootstrapRanks(50, 0)
    values = rng.normal(size=20)
    mask = np.ones(20, dtype=bool)
    first = boot.ranks("a", values, mask)
    assert boot.ranks("a", values, mask) is first
    assert first.shape == (50, 20)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0)
    other = boot.ranks("a", values, np.arange(20) < 15)
    assert other.shape == (50, 15)


def test_resample_ranks_equal_scipy_rankdata_with_ties(rng) -> None:
    from dynamics_stats.sweeps.correlate import _resample_ranks

    values = rng.integers(0, 6, 40).astype(float)  # many ties
    indices = rng.integers(0, 40, size=(30, 40))
    expected = stats.rankdata(values[indices], axis=1)
    np.testing.assert_allclose(_resample_ranks(values, indices), expected)
