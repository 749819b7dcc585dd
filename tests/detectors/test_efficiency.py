import doctest
import functools

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.efficiency as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.config import ChangepointConfig, CurvesConfig
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.efficiency import EfficiencyDetector, parameter_count
from dynamics_stats.io.synthetic import make_run

N_STEPS = 2000
# the detector does not read changepoints; skipping their search keeps the tests fast
CURVES = CurvesConfig(changepoints=ChangepointConfig(max_changepoints=0))
T = np.arange(1, 3001)
LINEAR = 2.0 - 1.0 * T / 3000  # steady fall to the end: slow
FAST = 0.3 + 1.7 * np.exp(-T / 200)  # 90 % of the fall within ~460 steps


@functools.cache
def _synthetic(kind=None, seed=0, negative=None, **options):
    options = {"n_steps": N_STEPS, "with_grad_norm": False} | options
    run, _ = make_run(kind, seed=seed, hard_negative=negative, **options)
    return model_curves(validate_run(run), CURVES)


def _evidence(run):
    (evidence,) = EfficiencyDetector().detect(run)
    return evidence


def _run(loss, *, hparams=None, every=1, modelled=True):
    steps = T[: len(loss)][every - 1 :: every]
    records = pd.DataFrame({"metric": "loss", "step": steps, "value": loss[every - 1 :: every]})
    records = records.assign(epoch=np.nan, wall_time=np.nan, line=0)
    artifacts = validate_run(RunLog("t", "test", records, hparams=hparams or {}))
    return model_curves(artifacts, CURVES) if modelled else ModelledRun(artifacts)


def _noise(seed, n=3000):
    return np.exp(np.random.default_rng(seed).normal(0, 0.03, n))


def test_slow_steady_runs_score_above_healthy_and_converged_runs():
    slow = [_evidence(_synthetic(None, s, "slow_but_steady")).score for s in range(4)]
    fine = [_evidence(_synthetic(None, s)).score for s in range(5)]
    fine += [_evidence(_synthetic(None, s, "converged_plateau")).score for s in range(3)]
    assert min(slow) >= 1.0 > max(fine)


def test_steps_to_90pct_of_a_known_curve():
    fast, linear = _evidence(_run(FAST * _noise(0))), _evidence(_run(LINEAR * _noise(0)))
    # the fall is measured on the log scale: log10 L goes from log10(2) to log10(0.3),
    # and 90 % of that is done when 1.7 exp(-t / 200) = 10 ** (0.1 log10 2 + 0.9 log10 0.3)
    # - 0.3 = 0.062, at t = 200 ln(1.7 / 0.062) = 662
    assert fast.value("steps_to_90pct_improvement") == pytest.approx(662, abs=60)
    assert fast.score < 0.3 and fast.severity == "info"
    assert linear.score >= 1.0 and linear.severity == "warning"
    assert linear.value("expected_further_gain_frac") > fast.value("expected_further_gain_frac")


def test_model_size_from_hparams():
    assert parameter_count({"trainer.lr": 1e-3, "model.Num_Params": 7e6}) == 7e6
    assert np.isnan(parameter_count({"num_params": True, "n_layers": 12}))
    evidence = _evidence(_run(FAST * _noise(1), hparams={"n_parameters": 1_000_000}))
    assert evidence.value("n_parameters") == 1e6
    steps = evidence.value("steps_to_90pct_improvement")
    assert evidence.value("parameter_steps_to_90pct") == pytest.approx(1e6 * steps)
    assert np.isnan(_evidence(_run(FAST * _noise(1))).value("n_parameters"))


def test_scale_and_logging_interval_invariance():
    for seed in (0, 3):
        a = _evidence(_synthetic(None, seed))
        b = _evidence(_synthetic(None, seed, loss_scale=1000.0))
        c = _evidence(_synthetic(None, seed, log_every=10))
        assert b.score == pytest.approx(a.score, rel=1e-3, abs=1e-3)
        assert c.score == pytest.approx(a.score, abs=0.1)


def test_no_progress_nan_short_and_fallback():
    flat = _evidence(_run(np.full(3000, 1.0) * _noise(2)))
    assert np.isfinite(flat.score)
    loss = LINEAR * _noise(3)
    loss[[5, 1500]] = np.nan
    loss[2000] = np.inf
    assert _evidence(_run(loss)).score >= 1.0
    fallback = _evidence(_run(LINEAR * _noise(3), modelled=False))
    assert fallback.value("used_fallback") == 1.0 and fallback.score >= 1.0
    assert EfficiencyDetector().detect(_run(np.array([1.0, 0.9, 0.8, 0.7]))) == ()


def test_deterministic():
    run = _synthetic(None, 1)
    assert _evidence(run).to_dict() == _evidence(run).to_dict()


@pytest.mark.parametrize("value", [0.0, 1.5, float("nan")])
def test_bad_parameters_raise_config_error(value):
    with pytest.raises(ConfigError, match="EfficiencyDetector.slow_frac"):
        EfficiencyDetector(slow_frac=value)


def test_doctests():
    assert doctest.testmod(module).failed == 0
