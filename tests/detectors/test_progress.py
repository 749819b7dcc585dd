import doctest
import functools
import itertools

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.progress as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.config import ChangepointConfig, CurvesConfig
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.progress import ProgressDetector
from dynamics_stats.io.synthetic import make_run

N_STEPS = 2000
NEGATIVES = ("converged_plateau", "slow_but_steady", "lr_drop_recovery", "noisy_small_batch")
NEGATIVES += ("warmup_bump", "step_decay_drop", "cosine_restart")
# the detector does not read changepoints; skipping their search keeps the tests fast
CURVES = CurvesConfig(changepoints=ChangepointConfig(max_changepoints=0))


@functools.cache
def _synthetic(kind=None, seed=0, negative=None, **options):
    options = {"n_steps": N_STEPS, "with_grad_norm": False} | options
    run, truth = make_run(kind, seed=seed, hard_negative=negative, **options)
    return model_curves(validate_run(run), CURVES), truth


def _by_kind(run):
    return {e.kind: e for e in ProgressDetector().detect(run)}


def _run(loss, *, every=1, modelled=True):
    steps = np.arange(1, len(loss) + 1)[every - 1 :: every]
    records = pd.DataFrame({"metric": "loss", "step": steps, "value": loss[every - 1 :: every]})
    artifacts = validate_run(
        RunLog("t", "test", records.assign(epoch=np.nan, wall_time=np.nan, line=0))
    )
    return model_curves(artifacts, CURVES) if modelled else ModelledRun(artifacts)


def _noise(seed, n=3000, sd=0.05):
    return np.exp(np.random.default_rng(seed).normal(0, sd, n))


T = np.arange(1, 3001)
CONVERGED = 0.1 + 2.2 * np.exp(-T / 150)  # fast early drop, then flat: healthy
FLAT_HIGH = 2.3 * (1 - 0.01 * (1 - np.exp(-T / 100)))  # barely moves: stalled
STEADY = 2.3 * (1 + T / 300) ** -0.15  # slow but steady: not stalled
IMPROVING = 2.3 * (1 + T / 30) ** -0.5  # still falling at the end: no plateau


def test_stalled_runs_rank_above_healthy_runs_and_hard_negatives():
    sick = [_by_kind(_synthetic("stalled", seed)[0])["stalled"].score for seed in range(8)]
    fine = [_by_kind(_synthetic(None, seed)[0])["stalled"].score for seed in range(5)]
    fine += [
        _by_kind(_synthetic(None, s, n)[0])["stalled"].score for n in NEGATIVES for s in (0, 1)
    ]
    pairs = list(itertools.product(sick, fine))
    # one stall mode stops after up to half of the healthy progress, which can look like
    # a converged run: allow a few misses, but no healthy run may reach the threshold
    assert np.mean([s > f for s, f in pairs]) >= 0.9
    assert np.median(sick) >= 1.0 > max(fine)


def test_stall_onset_is_near_the_injected_onset():
    for seed in range(8):
        run, truth = _synthetic("stalled", seed)
        evidence = _by_kind(run)["stalled"]
        if evidence.score >= 1.0:
            assert abs(evidence.onset_step - truth.onsets["stalled"]) <= 0.1 * N_STEPS
            assert evidence.severity == "critical"


def test_converged_run_is_not_stalled_but_flat_start_is():
    for seed in range(3):
        stalled, converged, steady = (
            _by_kind(_run(curve * _noise(seed)))["stalled"]
            for curve in (FLAT_HIGH, CONVERGED, STEADY)
        )
        assert stalled.score >= 1.0 > max(converged.score, steady.score)
        assert converged.value("steps_to_90pct_improvement") < 1000
        assert converged.severity == "info" and converged.onset_step is None
        assert stalled.onset_step == 1


def test_plateau_of_a_converged_run_and_outlook_of_an_improving_one():
    converged = _by_kind(_run(CONVERGED * _noise(0)))["performance_plateau"]
    improving = _by_kind(_run(IMPROVING * _noise(0)))["performance_plateau"]
    assert converged.score >= 1.0 > improving.score
    assert converged.value("further_gain_material") == 0.0
    gain = improving.value("expected_further_gain")
    assert improving.value("expected_further_gain_low") <= gain
    assert gain <= improving.value("expected_further_gain_high")
    assert improving.value("further_gain_material") == 1.0


def test_power_law_extrapolation_recovers_the_known_gain():
    # L = c t^-0.5 has log10(L(T) / L(2T)) = 0.5 log10(2) = 0.151 decades
    evidence = _by_kind(_run(3.0 * T**-0.5 * _noise(1, sd=0.02)))["performance_plateau"]
    assert evidence.value("expected_further_gain") == pytest.approx(0.151, abs=0.03)


def test_scale_invariance():
    for kind, seed in (("stalled", 1), (None, 2)):
        a = _by_kind(_synthetic(kind, seed)[0])
        b = _by_kind(_synthetic(kind, seed, loss_scale=1000.0)[0])
        for name in ("stalled", "performance_plateau"):
            assert b[name].score == pytest.approx(a[name].score, rel=1e-3, abs=1e-3)


def test_logging_interval_invariance():
    for kind, seed in (("stalled", 1), ("stalled", 6), (None, 2), (None, 3)):
        a = _by_kind(_synthetic(kind, seed)[0])["stalled"]
        b = _by_kind(_synthetic(kind, seed, log_every=10)[0])["stalled"]
        assert (a.score >= 1.0) == (b.score >= 1.0)
        assert b.value("improvement_decades") == pytest.approx(
            a.value("improvement_decades"), abs=0.02
        )


def test_nan_and_inf_values_are_tolerated():
    loss = CONVERGED * _noise(2)
    loss[[10, 500, 2000]] = np.nan
    loss[700] = np.inf
    evidence = _by_kind(_run(loss))
    assert all(np.isfinite(e.score) for e in evidence.values())
    assert evidence["stalled"].score < 1.0


def test_fallback_without_curve_models_still_separates():
    stalled = _by_kind(_run(FLAT_HIGH * _noise(3), modelled=False))["stalled"]
    converged = _by_kind(_run(CONVERGED * _noise(3), modelled=False))["stalled"]
    assert stalled.value("used_fallback") == 1.0 == converged.value("used_fallback")
    assert stalled.score >= 1.0 > converged.score


def test_too_short_or_missing_loss_gives_nothing():
    assert ProgressDetector().detect(_run(np.array([1.0, 0.9, 0.8, 0.7, 0.6]))) == ()
    records = pd.DataFrame({"metric": "val_loss", "step": np.arange(1, 51), "value": 1.0})
    artifacts = validate_run(
        RunLog("t", "test", records.assign(epoch=np.nan, wall_time=np.nan, line=0))
    )
    assert ProgressDetector().detect(ModelledRun(artifacts)) == ()


def test_deterministic():
    run = _synthetic("stalled", 4)[0]
    first, second = ProgressDetector().detect(run), ProgressDetector().detect(run)
    assert [e.to_dict() for e in first] == [e.to_dict() for e in second]


@pytest.mark.parametrize(
    "params",
    [{"min_improvement_decades": 0}, {"late_frac": 0.95}, {"late_gain_frac": -0.1}],
)
def test_bad_parameters_raise_config_error(params):
    with pytest.raises(ConfigError, match="ProgressDetector"):
        ProgressDetector(**params)


def test_doctests():
    assert doctest.testmod(module).failed == 0
