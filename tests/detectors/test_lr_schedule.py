import doctest
import functools

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.lr_schedule as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.config import ChangepointConfig, CurvesConfig
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.lr_schedule import LRScheduleDetector
from dynamics_stats.io.synthetic import HARD_NEGATIVES, make_run

N_STEPS = 2000
# the detector does not read changepoints; skipping their search keeps the tests fast
CURVES = CurvesConfig(changepoints=ChangepointConfig(max_changepoints=0))
T = np.arange(1, 3001)


@functools.cache
def _synthetic(kind=None, seed=0, negative=None, **options):
    options = {"n_steps": N_STEPS, "with_grad_norm": False} | options
    run, truth = make_run(kind, seed=seed, hard_negative=negative, **options)
    return model_curves(validate_run(run), CURVES), truth


def _by_kind(run):
    return {e.kind: e for e in LRScheduleDetector().detect(run)}


def _run(loss, lr, *, every=1, scale=1.0, modelled=True):
    frames = [
        pd.DataFrame(
            {"metric": name, "step": T[every - 1 :: every], "value": v[every - 1 :: every]}
        )
        for name, v in (("loss", loss * scale), ("lr", np.broadcast_to(lr, T.shape)))
    ]
    records = pd.concat(frames).assign(epoch=np.nan, wall_time=np.nan, line=0)
    artifacts = validate_run(RunLog("t", "test", records))
    return model_curves(artifacts, CURVES) if modelled else ModelledRun(artifacts)


def _noisy(log10_loss, seed, sd=0.02):
    return 10.0**log10_loss * np.exp(np.random.default_rng(seed).normal(0, sd, len(T)))


def _from_rate(rate_per_step):
    """log10 loss that falls by ``rate_per_step`` decades at each step."""
    return 0.3 - np.cumsum(rate_per_step)


def test_lr_too_low_in_stalled_runs_ranks_above_healthy_runs_and_hard_negatives():
    low_lr = []
    for seed in range(10):
        run, truth = _synthetic("stalled", seed)
        if truth.config["stall_mode"] == "lr_too_low":
            low_lr.append(_by_kind(run)["lr_too_low"])
    assert len(low_lr) >= 3
    fine = [_by_kind(_synthetic(None, s)[0])["lr_too_low"].score for s in range(4)]
    negatives = [n for n in HARD_NEGATIVES if n != "grad_norm_outlier"]
    fine += [_by_kind(_synthetic(None, 0, n)[0])["lr_too_low"].score for n in negatives]
    assert min(e.score for e in low_lr) >= 1.0 > max(fine)
    for evidence in low_lr:
        assert evidence.value("suggested_lr") > evidence.value("peak_lr")


def test_progress_faster_at_lower_lr_means_lr_too_high():
    lr = 1e-2 * (1e-2 ** (T / 3000))  # exponential decay 1e-2 -> 1e-4
    # the loss hardly moves at high LR and falls faster and faster as the LR decreases
    high = _by_kind(_run(_noisy(_from_rate(2e-4 * (T / 3000) ** 2), 0), lr))["lr_too_high"]
    assert high.score >= 1.0 and high.value("lr_slope_spearman") < -0.8
    assert high.value("suggested_lr") < 1e-2
    for seed in range(4):
        healthy = _by_kind(_synthetic(None, seed)[0])["lr_too_high"]
        assert healthy.score < 1.0


def test_best_lr_range_is_where_the_loss_fell_fastest():
    lr = np.select([T <= 1000, T <= 2000], [1e-2, 1e-3], 1e-4)
    rate = np.select([T <= 1000, T <= 2000], [5e-5, 2e-4], 2e-5)
    evidence = _by_kind(_run(_noisy(_from_rate(rate), 1, sd=0.01), lr))["lr_too_high"]
    assert evidence.value("best_lr_low") == pytest.approx(1e-3, rel=0.05)
    assert evidence.value("best_lr_high") == pytest.approx(1e-3, rel=0.05)


def test_lr_drop_without_response_is_an_ineffective_schedule():
    lr = np.where(T <= 1500, 1e-3, 1e-4)
    still = _from_rate(np.where(T <= 300, 1e-3, 0.0))  # converged before the drop, stays
    helped = still - np.where(T > 1500, 0.05 * (1 - np.exp(-(T - 1500) / 30)), 0.0)
    ineffective = _by_kind(_run(_noisy(still, 2), lr))["lr_schedule_ineffective"]
    effective = _by_kind(_run(_noisy(helped, 2), lr))["lr_schedule_ineffective"]
    assert ineffective.score >= 1.0 > effective.score
    assert ineffective.steps == effective.steps == (1501,)
    assert effective.value("mean_drop_response_decades") == pytest.approx(0.05, abs=0.015)


def test_constant_lr_has_no_schedule_evidence():
    evidence = _by_kind(_run(_noisy(_from_rate(np.full(3000, 1e-4)), 3), 1e-3))
    assert evidence["lr_schedule_ineffective"].score == 0.0
    assert evidence["lr_schedule_ineffective"].value("n_lr_drops") == 0.0
    assert np.isnan(evidence["lr_too_high"].value("lr_slope_spearman"))


def test_scale_and_logging_interval_invariance():
    for kind, seed in (("stalled", 1), (None, 2)):
        a = _by_kind(_synthetic(kind, seed)[0])
        b = _by_kind(_synthetic(kind, seed, loss_scale=1000.0)[0])
        c = _by_kind(_synthetic(kind, seed, log_every=10)[0])
        for name in ("lr_too_high", "lr_too_low", "lr_schedule_ineffective"):
            assert b[name].score == pytest.approx(a[name].score, rel=1e-3, abs=1e-3)
            assert (c[name].score >= 1.0) == (a[name].score >= 1.0)


def test_nan_missing_lr_and_fallback():
    lr = np.where(T <= 1500, 1e-3, 1e-4)
    loss = _noisy(_from_rate(np.full(3000, 2e-5)), 4)
    loss[[10, 2000]] = np.nan
    loss[2500] = np.inf
    evidence = _by_kind(_run(loss, lr))
    assert all(np.isfinite(e.score) for e in evidence.values())
    assert evidence["lr_too_low"].score >= 1.0
    fallback = _by_kind(_run(_noisy(_from_rate(np.full(3000, 2e-5)), 4), lr, modelled=False))
    assert fallback["lr_too_low"].value("used_fallback") == 1.0
    assert fallback["lr_too_low"].score >= 1.0
    records = pd.DataFrame({"metric": "loss", "step": T, "value": 1.0 / T})
    artifacts = validate_run(
        RunLog("t", "test", records.assign(epoch=np.nan, wall_time=np.nan, line=0))
    )
    assert LRScheduleDetector().detect(ModelledRun(artifacts)) == ()


def test_deterministic():
    run = _synthetic("stalled", 2)[0]
    first, second = LRScheduleDetector().detect(run), LRScheduleDetector().detect(run)
    assert [e.to_dict() for e in first] == [e.to_dict() for e in second]


@pytest.mark.parametrize(
    "params", [{"n_bins": 3}, {"drop_factor": 0.0}, {"response_window_frac": 0.9}]
)
def test_bad_parameters_raise_config_error(params):
    with pytest.raises(ConfigError, match="LRScheduleDetector"):
        LRScheduleDetector(**params)


def test_doctests():
    assert doctest.testmod(module).failed == 0
