import doctest
import functools

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.validation_plateau as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.config import ChangepointConfig, CurvesConfig
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.validation_plateau import ValidationPlateauDetector
from dynamics_stats.io.synthetic import make_run

N_STEPS = 2000
# the detector does not read changepoints; skipping their search keeps the tests fast
CURVES = CurvesConfig(changepoints=ChangepointConfig(max_changepoints=0))


@functools.cache
def _synthetic(kind=None, seed=0, negative=None, **options):
    options = {"n_steps": N_STEPS, "with_grad_norm": False, "val_every": 50} | options
    run, truth = make_run(kind, seed=seed, hard_negative=negative, **options)
    return model_curves(validate_run(run), CURVES), truth


def _evidence(run, **params):
    (evidence,) = ValidationPlateauDetector(**params).detect(run)
    return evidence


def _run(val, lr=None, *, every=50, n=4000, modelled=True, scale=1.0):
    val_steps = np.arange(every, n + 1, every)
    frames = [pd.DataFrame({"metric": "val_loss", "step": val_steps, "value": val * scale})]
    if lr is not None:
        frames.append(pd.DataFrame({"metric": "lr", "step": np.arange(1, n + 1), "value": lr}))
    records = pd.concat(frames).assign(epoch=np.nan, wall_time=np.nan, line=0)
    artifacts = validate_run(RunLog("t", "test", records))
    return model_curves(artifacts, CURVES) if modelled else ModelledRun(artifacts)


STEPS = np.arange(50, 4001, 50)
LR_DROP = np.where(np.arange(1, 4001) < 2000, 1e-3, 1e-4)  # x0.1 at step 2000


def _noise(seed, sd=0.005):
    return np.exp(np.random.default_rng(seed).normal(0, sd, len(STEPS)))


def _falling_until(step):
    """Power-law fall until ``step``, flat afterwards."""
    return 0.5 + (1 + np.minimum(STEPS, step) / 200) ** -0.7


def test_plateau_after_overfitting_onset_ranks_above_still_improving_runs():
    sick = [_evidence(_synthetic("overfitting", seed)[0]) for seed in range(5)]
    steady = [_evidence(_synthetic(None, s, "slow_but_steady")[0]).score for s in range(4)]
    healthy = [_evidence(_synthetic(None, s)[0]).score for s in range(5)]
    assert min(e.score for e in sick) >= 1.0 > max(steady)
    assert np.mean([e.score for e in sick]) > np.mean(healthy)


def test_onset_is_near_the_overfitting_onset():
    for seed in range(5):
        run, truth = _synthetic("overfitting", seed)
        evidence = _evidence(run)
        assert abs(evidence.onset_step - truth.onsets["overfitting"]) <= 0.1 * N_STEPS
        assert evidence.onset_step == evidence.value("plateau_start_step")


def test_plateau_ended_by_an_lr_drop_is_temporary():
    # flat from step 1000 until the LR drop at 2000, then falling again to the end
    before = _falling_until(1000)
    val = np.where(
        STEPS < 2000, before, before * (1 + np.clip(STEPS - 2000, 0, None) / 500) ** -0.3
    )
    evidence = _evidence(_run(val * _noise(0), LR_DROP))
    assert evidence.score < 1.0
    assert evidence.value("n_temporary_plateaus") == 1.0
    assert evidence.value("n_plateaus_ended_after_lr_drop") == 1.0
    assert 2000 in evidence.steps


def test_plateau_that_survives_an_lr_drop_is_genuine():
    evidence = _evidence(_run(_falling_until(1000) * _noise(1), LR_DROP))
    assert evidence.score >= 2.0
    assert abs(evidence.onset_step - 1000) <= 250
    assert evidence.value("lr_drops_in_plateau") == 1.0
    assert evidence.severity == "warning" and "LR drop" in evidence.message


def test_rising_validation_is_called_overfitting_not_a_plateau():
    val = _falling_until(1500) * (1 + 0.3 * np.clip((STEPS - 1500) / 2500, 0, None))
    evidence = _evidence(_run(val * _noise(2)))
    assert evidence.score >= 1.0 and evidence.value("p_val_rising_in_plateau") > 0.9
    assert evidence.severity == "warning" and "overfitting" in evidence.message


def test_score_is_the_plateau_length_in_windows():
    run = _run(_falling_until(2000) * _noise(3))
    default, fixed = _evidence(run), _evidence(run, window_steps=500)
    plateau = default.value("plateau_steps")
    assert default.score == pytest.approx(plateau / (0.2 * (4000 - 50)), rel=0.01)
    assert fixed.score == pytest.approx(plateau / 500)


def test_scale_and_validation_interval_invariance():
    val = _falling_until(2000)
    a = _evidence(_run(val * _noise(4)))
    b = _evidence(_run(val * _noise(4), scale=1e-3))
    assert b.score == pytest.approx(a.score, rel=1e-3)
    rng = np.random.default_rng(4)
    steps_10 = np.arange(10, 4001, 10)
    dense = (0.5 + (1 + np.minimum(steps_10, 2000) / 200) ** -0.7) * np.exp(
        rng.normal(0, 0.005, len(steps_10))
    )
    c = _evidence(_run(dense, every=10))
    assert (a.score >= 1.0) == (c.score >= 1.0)
    assert abs(c.onset_step - a.onset_step) <= 250


def test_nan_inf_missing_short_and_fallback():
    val = _falling_until(1000) * _noise(5)
    val[[3, 40]] = np.nan
    val[60] = np.inf
    evidence = _evidence(_run(val))
    assert np.isfinite(evidence.score) and evidence.score >= 1.0
    fallback = _evidence(_run(_falling_until(1000) * _noise(5), modelled=False))
    assert fallback.value("used_fallback") == 1.0 and fallback.score >= 1.0
    assert ValidationPlateauDetector().detect(_run(np.array([1.0, 0.9, 0.8]), n=150)) == ()
    records = pd.DataFrame({"metric": "loss", "step": np.arange(1, 101), "value": 1.0})
    artifacts = validate_run(
        RunLog("t", "test", records.assign(epoch=np.nan, wall_time=np.nan, line=0))
    )
    assert ValidationPlateauDetector().detect(ModelledRun(artifacts)) == ()


def test_deterministic():
    run = _synthetic("overfitting", 1)[0]
    assert _evidence(run).to_dict() == _evidence(run).to_dict()


@pytest.mark.parametrize(
    "params", [{"window_frac": 0.0}, {"window_steps": 0}, {"lr_drop_factor": 1.5}]
)
def test_bad_parameters_raise_config_error(params):
    with pytest.raises(ConfigError, match="ValidationPlateauDetector"):
        ValidationPlateauDetector(**params)


def test_doctests():
    assert doctest.testmod(module).failed == 0
