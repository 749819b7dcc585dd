import dataclasses
import doctest

import numpy as np
import pandas as pd

import dynamics_stats.detectors._trend as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.config import ChangepointConfig, CurvesConfig
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._trend import FALLBACK_METHOD, is_fallback, trend_of

CURVES = CurvesConfig(changepoints=ChangepointConfig(max_changepoints=0))


def _artifacts(values):
    values = np.asarray(values, float)
    records = pd.DataFrame({"metric": "loss", "step": np.arange(len(values)), "value": values})
    return validate_run(RunLog("t", "test", records.assign(epoch=np.nan, wall_time=np.nan, line=0)))


def _falling(n=400, seed=0):
    noise = np.exp(np.random.default_rng(seed).normal(0, 0.05, n))
    return (0.1 + 2.0 * (1 + np.arange(n) / 50) ** -0.7) * noise


def test_the_modelled_curve_is_used_as_it_is():
    run = model_curves(_artifacts(_falling()), CURVES)
    series = run.artifacts.get("train_loss")
    assert trend_of(run, series) is run.curves[series.name]
    assert not is_fallback(run.curves[series.name])


def test_without_a_curve_the_fallback_has_finite_errors_and_follows_the_trend():
    artifacts = _artifacts(_falling())
    trend = trend_of(ModelledRun(artifacts), artifacts.get("train_loss"))
    assert trend.method == FALLBACK_METHOD and is_fallback(trend) and trend.log_scale
    for values in (trend.level, trend.level_se, trend.slope, trend.slope_se):
        assert np.isfinite(values).all()
    assert (trend.level_se > 0).all() and (trend.slope_se > 0).all()
    # the loss falls throughout: the early slope is clearly negative
    assert trend.slope[5] < -3 * trend.slope_se[5]


def test_a_curve_without_slope_errors_is_replaced_by_the_fallback():
    run = model_curves(_artifacts(_falling()), CURVES)
    series = run.artifacts.get("train_loss")
    curve = run.curves[series.name]
    ewma = dataclasses.replace(
        curve, method="ewma_fallback", slope_se=np.full(len(curve.steps), np.nan)
    )
    trend = trend_of(ModelledRun(run.artifacts, curves={series.name: ewma}), series)
    assert trend.method == FALLBACK_METHOD
    np.testing.assert_array_equal(trend.level, trend_of(ModelledRun(run.artifacts), series).level)


def test_fewer_than_five_finite_points_give_no_trend():
    artifacts = _artifacts([1.0, 0.5, np.nan, 0.3, 0.2, np.inf])
    assert trend_of(ModelledRun(artifacts), artifacts.get("train_loss")) is None


def test_doctests():
    assert doctest.testmod(module).failed == 0
