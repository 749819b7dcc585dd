import doctest

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors._common as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import (
    finite_part,
    first_nonfinite,
    head_mask,
    level_of,
    log_scale,
    mad_sd,
    nonfinite_persistence,
    robust_sd,
    rolling_mean,
    rolling_median,
    tail_mask,
    trailing_median_mad,
    values_at,
    window_steps,
)


def _series(values, steps=None, name="loss"):
    values = np.asarray(values, float)
    steps = np.arange(1, len(values) + 1) if steps is None else np.asarray(steps)
    records = pd.DataFrame({"metric": name, "step": steps, "value": values})
    records = records.assign(epoch=np.nan, wall_time=np.nan, line=0)
    artifacts = validate_run(RunLog("t", "test", records))
    return artifacts, artifacts.metric(name)


def test_windows_are_in_steps_whatever_the_logging_interval():
    every_step, every_ten = np.arange(0, 10_001), np.arange(0, 10_001, 10)
    assert window_steps(every_step, frac=0.02) == window_steps(every_ten, frac=0.02) == 200
    # at least ``min_points`` logged points
    assert window_steps(np.arange(0, 1000, 100), frac=0.02, min_points=5) == 500
    assert head_mask(every_ten, 0.1).sum() == 101 and tail_mask(every_ten, 0.1).sum() == 101


def test_log_scale_only_for_positive_values():
    y, is_log = log_scale(np.array([1.0, 10.0, np.nan, np.inf]))
    assert is_log and y[:2].tolist() == [0.0, 1.0] and np.isnan(y[2:]).all()
    y, is_log = log_scale(np.array([-1.0, 1.0]))
    assert not is_log and y.tolist() == [-1.0, 1.0]


def test_centred_median_follows_monotone_curves_and_ignores_short_spikes():
    steps = np.arange(0, 1500, 3)
    curve = 3.0 - np.sqrt(steps)
    inner = (steps > steps[0] + 25) & (steps < steps[-1] - 25)
    assert np.allclose(rolling_median(steps, curve, window=50)[inner], curve[inner])
    irregular = np.cumsum(np.random.default_rng(0).integers(1, 6, 500))
    bent = 3.0 - np.sqrt(irregular)
    error = np.abs(rolling_median(irregular, bent, window=50) - bent)
    # off by at most the curve's change over two of the widest gaps (5 steps)
    inside = (irregular > irregular[0] + 25) & (irregular < irregular[-1] - 25)
    assert np.all(error[inside] <= 10 * 0.5 / np.sqrt(irregular[inside]))
    spiky = curve.copy()
    spiky[250] += 10
    assert rolling_median(steps, spiky, window=50)[250] == pytest.approx(curve[250], abs=0.5)
    line = 2.0 * steps
    assert np.allclose(rolling_mean(steps, line, window=50)[inner], line[inner], atol=2.0)


def test_trailing_statistics_exclude_the_point_itself():
    steps = np.arange(100)
    y = np.zeros(100)
    y[50] = 100.0
    median, mad = trailing_median_mad(steps, y, window=10, min_points=3)
    assert np.isnan(median[:3]).all() and median[50] == 0.0 and mad[50] == 0.0
    assert median[51] == 0.0  # one outlier among ten does not move a median


def test_robust_spreads_of_gaussian_noise():
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 2.0, 20_000)
    assert mad_sd(noise) == pytest.approx(2.0, rel=0.03)
    assert robust_sd(noise + np.linspace(0, 100, 20_000)) == pytest.approx(2.0, rel=0.03)
    assert np.isnan(mad_sd(np.array([np.nan])))


def test_finite_part_drops_nonfinite_values_and_bins_long_series():
    _, series = _series([1.0, np.nan, 2.0, np.inf, 3.0])
    steps, values = finite_part(series)
    assert steps.tolist() == [1, 3, 5] and values.tolist() == [1.0, 2.0, 3.0]
    rng = np.random.default_rng(2)
    _, long = _series(rng.normal(0, 1, 5000))
    _, extremes = finite_part(long, max_points=1000, keep="extremes")
    assert len(extremes) == 1000 and extremes.max() == long.values.max()
    assert extremes.min() == long.values.min()
    assert len(finite_part(long, max_points=1000, keep="max")[0]) == 1000
    assert len(finite_part(long, max_points=1000)[0]) <= 1000


def test_nonfinite_helpers():
    _, series = _series([np.nan, 1.0, 2.0, np.nan, np.inf, 3.0])
    assert first_nonfinite(series) == 1 and first_nonfinite(series, after_finite=True) == 4
    assert nonfinite_persistence(series, 4) == pytest.approx(2 / 3)
    assert first_nonfinite(None) is None
    assert values_at(series, np.array([0, 2, 5, 9])).tolist() == [1.0, 1.0, 2.0, 3.0]


def test_trend_uses_the_curve_model_or_says_it_fell_back():
    artifacts, series = _series(2.0 / np.sqrt(np.arange(1, 400)))
    modelled = level_of(model_curves(artifacts), series)
    fallback = level_of(ModelledRun(artifacts), series)
    assert not modelled.used_fallback and fallback.used_fallback
    assert modelled.log_scale and fallback.log_scale
    at = np.array([10, 200, 390])
    assert np.allclose(modelled.at(at), fallback.at(at), atol=0.05)
    assert level_of(ModelledRun(artifacts), _series([1.0, 2.0])[1]) is None


def test_doctests():
    assert doctest.testmod(module).failed == 0
