import doctest
import functools
import json

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.oscillation as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.oscillation import OscillationDetector
from dynamics_stats.io.synthetic import HARD_NEGATIVES, make_run

N_STEPS = 3000
SEEDS = range(10)
NEGATIVE_SEEDS = range(6)


@functools.cache
def _synthetic(kind=None, seed=0, negative=None, **options):
    # the score reads the raw loss only (the curve model gives a reported progress value)
    run, truth = make_run(kind, n_steps=N_STEPS, seed=seed, hard_negative=negative, **options)
    return ModelledRun(validate_run(run)), truth


def _dicts(evidence):
    """NaN-safe comparison: NaN values become None."""
    return [e.to_dict() for e in evidence]


def _evidence(run):
    (evidence,) = OscillationDetector().detect(run)
    return evidence


def _score(*args, **options):
    return _evidence(_synthetic(*args, **options)[0]).score


def _negatives(**options):
    return {
        (negative, seed): _score(None, seed, negative, **options)
        for seed in NEGATIVE_SEEDS
        for negative in (None, *HARD_NEGATIVES)
    }


def _hand_made(loss, lr=None):
    steps = np.arange(1, len(loss) + 1)
    frames = [pd.DataFrame({"metric": "loss", "step": steps, "value": loss})]
    if lr is not None:
        frames.append(pd.DataFrame({"metric": "lr", "step": steps, "value": lr}))
    records = pd.concat(frames).assign(epoch=np.nan, wall_time=np.nan, line=0)
    return ModelledRun(validate_run(RunLog("t", "test", records)))


def _noisy_decay(seed, n=3000, sd=0.05):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    return (0.5 + 2.0 * (1 + steps / 100) ** -0.7) * np.exp(rng.normal(0, sd, n))


def test_oscillation_ranks_above_healthy_runs_and_hard_negatives():
    sick = [_score("oscillation", seed) for seed in SEEDS]
    negatives = _negatives()
    others = [s for (name, _), s in negatives.items() if name != "noisy_small_batch"]
    assert min(sick) > max(others) and min(sick) >= 1.0
    # noisy small-batch training can look like volatility that was there from the start,
    # but it stays below the typical oscillation
    assert np.median(sick) > max(negatives.values())


def test_periodic_and_late_volatile_runs_show_their_own_signature():
    for seed in SEEDS:
        run, truth = _synthetic("oscillation", seed)
        evidence = _evidence(run)
        if truth.config["oscillation_mode"] == "periodic":
            assert evidence.value("periodicity") > 5.0
            assert evidence.value("periodic_amplitude_to_noise") > 1.0
        elif truth.onsets["oscillation"] > 0.15 * N_STEPS:  # a calm stretch to compare with
            assert evidence.value("noise_contrast") > 2.0


def test_onset_is_the_first_step_or_near_the_injected_start():
    for seed in SEEDS:
        run, truth = _synthetic("oscillation", seed)
        evidence = _evidence(run)
        onset, true = evidence.onset_step, truth.onsets["oscillation"]
        if onset is None:  # below the warning level: only a weak volatile run (seed 4)
            assert evidence.score < 1.5 and seed == 4
        elif true == 1:
            assert onset == 1
        elif onset == 1:  # a volatility rise too small to date (seed 0, from 9 % of the run)
            assert seed == 0
        else:
            assert abs(onset - true) <= 0.05 * N_STEPS


def test_scale_and_curve_models_do_not_change_the_score():
    for kind in ("oscillation", None):
        base = _score(kind, 1)
        assert _score(kind, 1, loss_scale=1000.0) == pytest.approx(base, abs=1e-9)
    run, _ = _synthetic("oscillation", 2)
    with_curves = _evidence(model_curves(run.artifacts))
    assert with_curves.score == _evidence(run).score
    assert with_curves.value("used_fallback") == 0.0 and _evidence(run).value("used_fallback")


def test_logging_interval_gives_the_same_ranking():
    sick = [_score("oscillation", seed, log_every=10) for seed in SEEDS]
    assert min(sick) > max(_negatives(log_every=10).values())


def test_fast_swings_and_alternation_are_periodic():
    steps = np.arange(3000)
    swing = _noisy_decay(0) * np.exp(0.15 * np.sin(2 * np.pi * steps / 8))
    evidence = _evidence(_hand_made(swing))
    assert evidence.score >= 1.5 and evidence.value("period_steps") == pytest.approx(8, rel=0.02)
    flip = _noisy_decay(1) * np.exp(0.1 * (-1.0) ** steps)
    evidence = _evidence(_hand_made(flip))
    assert evidence.score >= 1.5 and evidence.value("lag1_autocorr") < -0.5
    assert evidence.value("period_steps") == pytest.approx(2, rel=0.02)
    assert _evidence(_hand_made(_noisy_decay(0))).score < 1.0


def test_isolated_spikes_are_not_oscillation():
    spiky = _noisy_decay(2)
    spiky[[700, 1400, 2100]] *= 8
    assert _evidence(_hand_made(spiky)).score < 1.0


def test_volatility_that_falls_with_the_learning_rate_is_healthy():
    rng = np.random.default_rng(3)
    lr = np.where(np.arange(3000) < 1500, 1e-3, 1e-4)
    noise = np.where(lr > 5e-4, 0.5, 0.1) * rng.normal(0, 1, 3000)
    loss = _noisy_decay(3, sd=0.0) * np.exp(noise)
    without, with_lr = _evidence(_hand_made(loss)), _evidence(_hand_made(loss, lr))
    assert with_lr.value("lr_volatility_factor") < 0.4
    assert with_lr.score < 0.5 * without.score


def test_nan_short_and_missing_inputs():
    loss = _noisy_decay(4)
    loss[[10, 500]] = np.nan
    loss[900] = np.inf
    assert np.isfinite(_evidence(_hand_made(loss)).score)
    short = _evidence(_hand_made(np.linspace(2.0, 1.0, 10)))
    assert short.score == 0.0 and short.value("n_points") == 10
    records = pd.DataFrame({"metric": "val_loss", "step": [1, 2, 3], "value": [1.0, 0.9, 0.8]})
    records = records.assign(epoch=np.nan, wall_time=np.nan, line=0)
    assert OscillationDetector().detect(ModelledRun(validate_run(RunLog("t", "t", records)))) == ()


def test_deterministic_and_json_safe():
    run, _ = _synthetic("oscillation", 3)
    first = OscillationDetector().detect(run)
    assert _dicts(first) == _dicts(OscillationDetector().detect(run))
    json.dumps(first[0].to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("field", "value"), [("trend_frac", 0.0), ("calm_quantile", 0.9), ("lr_drop", 1.5)]
)
def test_bad_parameters_are_refused(field, value):
    with pytest.raises(ConfigError, match=f"OscillationDetector.{field}"):
        OscillationDetector(**{field: value})


def test_doctests():
    assert doctest.testmod(module).failed == 0
