import doctest
import functools

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.spikes as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.spikes import SpikeDetector
from dynamics_stats.io.synthetic import make_run

N_STEPS = 3000
SEEDS = range(6)
NEGATIVES = ("warmup_bump", "step_decay_drop", "noisy_small_batch", "lr_drop_recovery")
NEGATIVES += ("cosine_restart",)


@functools.cache
def _synthetic(kind=None, seed=0, negative=None, **options):
    # the detector reads the raw loss only, so the curve models are not needed here
    run, truth = make_run(kind, n_steps=N_STEPS, seed=seed, hard_negative=negative, **options)
    return ModelledRun(validate_run(run)), truth


def _dicts(evidence):
    """NaN-safe comparison: NaN values become None."""
    return [e.to_dict() for e in evidence]


def _evidence(run):
    (evidence,) = SpikeDetector().detect(run)
    return evidence


def _score(kind=None, seed=0, negative=None, **options):
    return _evidence(_synthetic(kind, seed, negative, **options)[0]).score


def _hand_made(loss, *, every=1):
    steps = np.arange(1, len(loss) + 1)[every - 1 :: every]
    records = pd.DataFrame({"metric": "loss", "step": steps, "value": loss[every - 1 :: every]})
    records = records.assign(epoch=np.nan, wall_time=np.nan, line=0)
    return ModelledRun(validate_run(RunLog("t", "test", records)))


def _noisy_decay(seed, n=3000, sd=0.05):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    return (0.5 + 2.0 * (1 + steps / 100) ** -0.7) * np.exp(rng.normal(0, sd, n))


def test_injected_spikes_rank_above_healthy_runs_and_hard_negatives():
    spiky = [_score("loss_spikes", seed) for seed in SEEDS]
    calm = [_score(None, seed) for seed in SEEDS]
    calm += [_score(None, seed, negative) for seed in SEEDS for negative in NEGATIVES]
    assert min(spiky) > max(calm)
    assert min(spiky) >= 1.5 and np.median(calm) < 0.7


def test_spike_steps_and_onset_match_the_injected_spikes():
    for seed in SEEDS:
        run, truth = _synthetic("loss_spikes", seed)
        evidence = _evidence(run)
        injected = truth.config["spike_steps"]
        assert abs(evidence.onset_step - truth.onsets["loss_spikes"]) <= 3
        found = np.array(evidence.steps)
        # every reported spike is an injected one (within a few steps of its start)
        assert all(np.min(np.abs(np.array(injected) - s)) <= 5 for s in found)
        assert evidence.value("n_spikes") == len(found) >= 1


def test_scale_does_not_change_the_score():
    for kind in ("loss_spikes", None):
        base = _score(kind, 1)
        assert _score(kind, 1, loss_scale=1000.0) == pytest.approx(base, abs=1e-9)


def test_logging_interval_gives_the_same_conclusions():
    for seed in SEEDS:
        assert _score("loss_spikes", seed, log_every=10) >= 1.0
        assert _score(None, seed, log_every=10) < 1.0
        assert _score("loss_spikes", seed, log_every=10) > _score(None, seed, log_every=10)


def test_level_shift_and_lr_drop_are_not_spikes():
    up, down = _noisy_decay(0), _noisy_decay(1)
    up[1500:] *= 8.0  # jumps and stays up: divergence-like
    down[1500:] *= 0.6  # a sudden drop after an LR decay
    for loss in (up, down):
        evidence = _evidence(_hand_made(loss))
        assert evidence.score == 0.0 and evidence.steps == ()


def test_a_jump_that_settles_half_way_up_has_not_recovered():
    loss = _noisy_decay(5)
    loss[1500] *= 8.0
    loss[1501:] *= 8.0**0.5  # comes down only half way (in log) and stays there
    evidence = _evidence(_hand_made(loss))
    assert evidence.score == 0.0 and evidence.value("n_unrecovered") == 1


def test_a_smooth_bump_is_not_a_spike_but_a_sharp_one_is():
    steps = np.arange(3000)
    bump = _noisy_decay(2) * np.exp(0.5 * np.exp(-0.5 * ((steps - 600) / 40.0) ** 2))
    spike = _noisy_decay(2)
    spike[600:] *= np.exp(0.5 * np.exp(-(steps[600:] - 600) / 5.0))
    assert _evidence(_hand_made(bump)).score == 0.0
    evidence = _evidence(_hand_made(spike))
    # 0.5 (natural log) over noise of SD 0.05: about 10 robust SDs, 1.7 times the bar of 6
    assert 1.2 < evidence.score < 2.5 and evidence.steps == (601,)


def test_heavy_tailed_noise_raises_the_bar():
    rng = np.random.default_rng(3)
    heavy = _noisy_decay(3) * np.exp(0.3 * rng.standard_t(3, 3000))
    evidence = _evidence(_hand_made(heavy))
    assert evidence.value("null_z") > 6.0
    assert evidence.value("reference_z") == pytest.approx(1.5 * evidence.value("null_z"))
    assert evidence.score < 1.5


def test_nan_and_inf_values_are_skipped():
    loss = _noisy_decay(4)
    loss[[100, 2000]] = np.nan
    loss[2500] = np.inf
    evidence = _evidence(_hand_made(loss))
    assert np.isfinite(evidence.score) and evidence.score < 1.0


def test_short_run_and_missing_loss():
    evidence = _evidence(_hand_made(np.linspace(2.0, 1.0, 10)))
    assert evidence.score == 0.0 and evidence.value("n_points") == 10
    records = pd.DataFrame({"metric": "val_loss", "step": [1, 2, 3], "value": [1.0, 0.9, 0.8]})
    records = records.assign(epoch=np.nan, wall_time=np.nan, line=0)
    assert SpikeDetector().detect(ModelledRun(validate_run(RunLog("t", "t", records)))) == ()


def test_deterministic_and_curve_models_change_nothing():
    run, _ = _synthetic("loss_spikes", 0)
    assert _dicts(SpikeDetector().detect(run)) == _dicts(SpikeDetector().detect(run))
    modelled = model_curves(run.artifacts)
    assert _dicts(SpikeDetector().detect(modelled)) == _dicts(SpikeDetector().detect(run))


@pytest.mark.parametrize(
    ("field", "value"),
    [("window_frac", 0.0), ("z_threshold", 0.5), ("null_factor", -1.0), ("min_points", 3)],
)
def test_bad_parameters_are_refused(field, value):
    with pytest.raises(ConfigError, match=f"SpikeDetector.{field}"):
        SpikeDetector(**{field: value})


def test_doctests():
    assert doctest.testmod(module).failed == 0
