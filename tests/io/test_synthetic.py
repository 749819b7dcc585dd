"""Tests of the synthetic-run generator: validity, determinism and that the truth is visible.

The "rules" below are deliberately simple numeric checks of what each kind claims to
show, on the noisy logged data as a detector sees it; each is applied to the labelled
runs (must fire), to healthy runs and to weak injections labelled negative (must not).
Paired rules compare a run with its healthy twin (same seed, no injection). The generator
decides labels with its own rules on the noise-free signal
(`dynamics_stats.io._synthetic_labels`); the tests check that the two agree.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import ConfigError
from dynamics_stats.detectors.base import CORE_KINDS
from dynamics_stats.io.synthetic import (
    HARD_NEGATIVES,
    KINDS,
    NAMINGS,
    SyntheticTruth,
    make_corpus,
    make_run,
)
from dynamics_stats.validate import validate_run
from dynamics_stats.validate.roles import infer_role

N = 2000
SEEDS = (0, 1, 2, 3, 4, 5)


def _get(run, role):
    series = validate_run(run).get(role)
    return series.steps, series.values


def _window_median(steps, values, lo, hi):
    inside = (steps >= lo) & (steps < hi)
    return float(np.median(values[inside]))


# ----------------------------------------------------------------------------- rules


def diverged(run, onset: int) -> bool:
    steps, loss = _get(run, "train_loss")
    after = steps >= onset
    if not np.isfinite(loss[after]).all():
        return True
    before = _window_median(steps, loss, onset - 0.1 * N, onset)
    return float(np.median(loss[-max(3, len(loss) // 50) :])) >= 10 * before


def overfit(run, onset: int) -> bool:
    """Train falls after onset while val rises >= 10 % above its minimum after onset, or
    val stops improving (< 5 % better) while the log train/val gap widens by >= 0.1."""
    t_steps, train = _get(run, "train_loss")
    v_steps, val = _get(run, "val_loss")
    v_steps, val = v_steps[v_steps >= onset], val[v_steps >= onset]
    smooth = pd.Series(val).rolling(3, center=True, min_periods=1).median().to_numpy()
    half = 0.01 * N
    matched = np.array([_window_median(t_steps, train, s - half, s + half) for s in v_steps])
    gap = np.log(val) - np.log(matched)
    gap_widened = np.mean(gap[-3:]) - np.mean(gap[:3]) >= 0.1
    rises = smooth[-1] >= 1.10 * smooth.min()
    stops = smooth[-1] >= 0.95 * smooth[0]
    train_falls = np.mean(matched[-3:]) < np.mean(matched[:3])
    return bool(train_falls and (rises or (stops and gap_widened)))


def _improvement(run, onset: int) -> float:
    """Log-loss fall from the 2 % of steps from onset to the last 10 %."""
    steps, loss = _get(run, "train_loss")
    start = _window_median(steps, loss, onset, onset + 0.02 * N)
    return float(np.log(start) - np.log(_window_median(steps, loss, 0.9 * N, N + 1)))


def stalled(run, twin, onset: int) -> bool:
    """< 20 % of the improvement its healthy twin makes over the same steps, ending above
    the twin by >= 25 % of the twin's whole improvement (a converged run is not stalled)."""
    whole = _improvement(twin, 1)
    above = _improvement(twin, 1) - _improvement(run, 1)
    return _improvement(run, onset) < 0.2 * _improvement(twin, onset) and above >= 0.25 * whole


def _robust_sd(x):
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def _detrended(run, window: int = 51):
    steps, loss = _get(run, "train_loss")
    logged = np.log(loss)
    trend = pd.Series(logged).rolling(window, center=True, min_periods=1).median().to_numpy()
    return steps, logged - trend


def spike_ok(run, step: int) -> bool:
    """The step is >= 10 robust sd above the local median and is back down 5 % later."""
    steps, resid = _detrended(run, window=101)
    i = int(np.searchsorted(steps, step))
    i = i + int(np.argmax(resid[i : i + 2]))  # an interval mean may show it one point later
    local = resid[max(0, i - 100) : i - 5]
    sd = _robust_sd(local)
    high = resid[i] - np.median(local) >= 10 * sd
    later = resid[i + int(0.02 * len(steps)) : i + int(0.03 * len(steps))]
    return bool(high and np.median(later) - np.median(local) < 3 * sd)


def max_spike_z(run) -> float:
    """Largest robust z of the detrended log loss after the first 5 % (fast initial fall)."""
    steps, resid = _detrended(run, window=101)
    resid = resid[steps > 0.05 * N]
    return float(np.max((resid - np.median(resid)) / _robust_sd(resid)))


def oscillating(run, twin, onset: int) -> bool:
    ratios = []
    for r in (run, twin):
        steps, resid = _detrended(r, window=201)
        ratios.append(_robust_sd(resid[steps >= onset]) if (steps >= onset).sum() > 20 else 0)
    return ratios[0] >= 2 * ratios[1]


def exploding(run, onset: int, reference: int | None = None) -> bool:
    """>= 3 points after onset are >= 10x the median of the 5 % of steps before reference."""
    steps, grad = _get(run, "grad_norm")
    reference = onset if reference is None else reference
    running = _window_median(steps, grad, reference - 0.05 * N, reference)
    return int(np.sum(grad[steps >= onset] >= 10 * running)) >= 3


def vanished(run, twin, onset: int, stop: int) -> bool:
    steps, grad = _get(run, "grad_norm")
    _, healthy = _get(twin, "grad_norm")
    inside = (steps >= onset) & (steps < stop)
    return float(np.median(grad[inside])) <= 1e-2 * float(np.median(healthy[inside]))


def shows(kind: str, run, twin, truth: SyntheticTruth) -> bool:
    """Whether the run shows ``kind`` by the checks above (at its labelled or candidate onset;
    for spikes: every spike the labels count, or any injected spike if none counts)."""
    onset = truth.onsets.get(kind) or truth.config.get("candidates", {}).get(kind, N // 2)
    if kind == "overfitting":
        return overfit(run, onset)
    if kind == "stalled":
        return stalled(run, twin, onset)
    if kind == "divergence":
        return diverged(run, onset)
    if kind == "loss_spikes":
        steps, heights = truth.config["spike_steps"], truth.config["label_stats"][kind]
        counted = [s for s, z in zip(steps, heights, strict=True) if z >= 8 and s >= onset]
        if counted:
            return all(spike_ok(run, s) for s in counted)
        return any(spike_ok(run, s) for s in steps)
    if kind == "oscillation":
        return oscillating(run, twin, onset)
    if kind == "exploding_gradients":
        return exploding(run, onset, min(truth.config["candidates"].values()))
    stop = int(truth.config.get("vanish_stop_step", N))
    return vanished(run, twin, onset, stop)


# ----------------------------------------------------------------------------- tests


def test_kinds_match_core_kinds():
    assert KINDS == CORE_KINDS


def test_same_seed_same_run_and_other_seed_differs():
    a, ta = make_run("loss_spikes", seed=7)
    b, tb = make_run("loss_spikes", seed=7)
    c, _ = make_run("loss_spikes", seed=8)
    pd.testing.assert_frame_equal(a.records, b.records)
    assert ta.to_dict() == tb.to_dict()
    assert not a.records["value"].equals(c.records["value"])


@pytest.mark.parametrize("kind", [None, *KINDS])
@pytest.mark.parametrize("naming", sorted(NAMINGS))
def test_every_kind_and_naming_validates_with_roles(kind, naming):
    if naming == "keras" and kind in ("exploding_gradients", "vanishing_gradients"):
        pytest.skip("keras logs no grad norm")
    run, truth = make_run(kind, n_steps=500, seed=3, naming=naming)
    json.dumps(truth.to_dict(), allow_nan=False)
    artifacts = validate_run(run)
    roles = {m.role for m in artifacts.metrics}
    expected = {"train_loss", "val_loss", "learning_rate"}
    expected |= set() if naming == "keras" else {"grad_norm"}
    assert roles == expected
    assert run.format == "synthetic"
    assert run.step_unit == ("epoch" if naming == "keras" else "step")
    assert set(truth.onsets) == set(truth.kinds)
    assert (kind is None) == (truth.kinds == ())
    if kind is not None:
        assert kind in truth.kinds
    for name, role in run.role_hints.items():
        assert infer_role(name)[0] == role, name  # the names alone say the role too
    assert not any(i.level == "fatal" for i in artifacts.report.issues)


@pytest.mark.parametrize("negative", HARD_NEGATIVES)
def test_hard_negatives_validate_and_are_healthy(negative):
    run, truth = make_run(None, seed=2, hard_negative=negative, n_steps=1000)
    assert truth.kinds == () and truth.hard_negative == negative
    roles = {m.role for m in validate_run(run).metrics}
    assert {"train_loss", "val_loss", "learning_rate", "grad_norm"} <= roles


def _quarters(run) -> np.ndarray:
    steps, loss = _get(run, "train_loss")
    return np.array([_window_median(steps, loss, q * N / 4, (q + 1) * N / 4) for q in range(4)])


def _shows_negative(name: str, run, truth: SyntheticTruth) -> bool:
    """Whether a hard negative shows the benign feature it is named after."""
    steps, loss = _get(run, "train_loss")
    lr_steps, lr = _get(run, "learning_rate")
    cfg = truth.config
    if name == "warmup_bump":
        peak = int(cfg["bump_peak_step"])
        top = _window_median(steps, loss, peak - 0.1 * peak, peak + 0.1 * peak)
        return top > 1.05 * _window_median(steps, loss, 0.4 * peak, 0.6 * peak)
    if name in ("step_decay_drop", "lr_drop_recovery"):
        cut = int(lr_steps[np.argmax(lr[1:] < 0.3 * lr[:-1]) + 1])
        before = _window_median(steps, loss, cut - 0.03 * N, cut)
        return _window_median(steps, loss, cut + 0.01 * N, cut + 0.04 * N) < 0.95 * before
    if name == "noisy_small_batch":
        return _robust_sd(_detrended(run)[1][steps > 0.05 * N]) >= 0.25
    if name == "converged_plateau":
        middle = _window_median(steps, loss, 0.4 * N, 0.6 * N)
        return abs(np.log(middle / _window_median(steps, loss, 0.8 * N, N + 1))) < 0.03
    if name == "cosine_restart":
        restarts = (lr[1:] > 2 * lr[:-1]) & (lr[1:] > 0.5 * lr.max())
        return int(np.sum(restarts)) == int(cfg["n_cycles"]) - 1
    if name == "slow_but_steady":
        return bool(np.all(np.diff(np.log(_quarters(run))) < -0.02))
    g_steps, grad = _get(run, "grad_norm")
    return int(np.sum(grad >= 10 * np.median(grad))) == 1


@pytest.mark.parametrize("negative", HARD_NEGATIVES)
def test_hard_negative_shows_its_feature_and_none_of_the_kinds(negative):
    for seed in SEEDS:
        run, truth = make_run(None, seed=seed, hard_negative=negative, n_steps=N)
        assert _shows_negative(negative, run, truth), (negative, seed)
        assert not diverged(run, N // 2)
        assert not overfit(run, N // 2)
        assert max_spike_z(run) < 10
        outlier = int(truth.config.get("outlier_step", N // 2))
        assert not exploding(run, outlier)


@pytest.mark.parametrize("kind", KINDS)
def test_injected_kind_shows_what_it_claims(kind):
    for seed in SEEDS:
        run, truth = make_run(kind, seed=seed, n_steps=N)
        twin, _ = make_run(None, seed=seed, n_steps=N)
        for shown in truth.kinds:
            assert shows(shown, run, twin, truth), (shown, seed, dict(truth.config))


@pytest.mark.parametrize("kind", KINDS)
def test_weak_injection_is_a_candidate_without_a_label(kind):
    """At strength 0.1 the kind neither meets its label rule nor shows by the checks above;
    only a divergence that turns non-finite is labelled at any size."""
    for seed in SEEDS:
        run, truth = make_run(kind, seed=seed, n_steps=N, strength=0.1)
        twin, _ = make_run(None, seed=seed, n_steps=N)
        assert kind in truth.config["candidates"]
        json.dumps(truth.to_dict(), allow_nan=False)
        if "diverge_nan_step" in truth.config:
            assert truth.kinds == ("divergence",)
            continue
        assert truth.kinds == (), (seed, truth.config["label_stats"])
        assert not shows(kind, run, twin, truth), (seed, truth.config["label_stats"])


def test_labels_agree_with_the_checks_across_strengths():
    """Over strengths log-uniform on 0.15-2.5, the label of each candidate kind (a rule on
    the clean signal) matches the noisy checks in >= 90 % of cases; disagreements can only
    come from noise near a threshold."""
    rng = np.random.default_rng(0)
    agree = total = 0
    for kind in KINDS:
        for seed in range(4):
            strength = float(np.exp(rng.uniform(np.log(0.15), np.log(2.5))))
            run, truth = make_run(kind, seed=seed, n_steps=N, strength=strength)
            twin, _ = make_run(None, seed=seed, n_steps=N)
            for candidate in truth.config["candidates"]:
                total += 1
                agree += shows(candidate, run, twin, truth) == (candidate in truth.kinds)
    assert total >= 28 and agree >= 0.9 * total, (agree, total)


def test_spikes_are_labelled_through_interval_means():
    """With log_every=10 each spike is a bump in one interval mean, still far above the
    (equally averaged) noise, so the labels keep it."""
    for seed in SEEDS:
        _, truth = make_run("loss_spikes", seed=seed, n_steps=N, log_every=10)
        assert truth.kinds == ("loss_spikes",)
        assert min(truth.config["label_stats"]["loss_spikes"]) >= 8


@pytest.mark.parametrize("seed", range(12))
def test_healthy_runs_show_none_of_the_kinds(seed):
    run, truth = make_run(None, seed=seed, n_steps=N)
    assert not diverged(run, N // 2)
    assert not overfit(run, N // 2)
    assert max_spike_z(run) < 10
    assert not exploding(run, N // 2)
    assert _improvement(run, 1) > 0.05  # it learns


def test_onsets_are_recorded_in_steps_and_epochs():
    run, truth = make_run("divergence", seed=4)
    steps = int(truth.onsets["divergence"])
    assert 0.3 * N <= steps <= 0.9 * N
    _, keras_truth = make_run("divergence", seed=4, naming="keras", val_every=50)
    assert keras_truth.onsets["divergence"] == (steps - 1) // 50


def test_log_every_gives_a_tenth_of_the_points():
    one, _ = make_run(None, seed=1, log_every=1)
    ten, _ = make_run(None, seed=1, log_every=10)
    n1 = len(validate_run(one).get("train_loss").steps)
    n10 = validate_run(ten).get("train_loss").steps
    assert n1 == N and len(n10) == N // 10 and n10[0] == 10


def test_loss_scale_multiplies_losses_and_grad_norm():
    a, _ = make_run("oscillation", seed=5)
    b, _ = make_run("oscillation", seed=5, loss_scale=1000.0)
    for role in ("train_loss", "val_loss", "grad_norm"):
        np.testing.assert_allclose(_get(b, role)[1], 1000.0 * _get(a, role)[1], rtol=1e-12)
    np.testing.assert_array_equal(_get(a, "learning_rate")[1], _get(b, "learning_rate")[1])


def test_optional_metrics_can_be_left_out():
    run, _ = make_run(None, with_grad_norm=False, with_lr=False)
    assert {m.role for m in validate_run(run).metrics} == {"train_loss", "val_loss"}


def test_truth_is_json_and_hparams_hold_the_scalars():
    run, truth = make_run("loss_spikes", seed=2)
    text = json.dumps(truth.to_dict(), allow_nan=False)
    assert "spike_steps" in text
    assert run.hparams["kind"] == "loss_spikes" and run.hparams["seed"] == 2
    assert "spike_steps" not in run.hparams  # a list, not a scalar


@pytest.mark.parametrize(
    "options",
    [
        {"kind": "spikes"},
        {"hard_negative": "nope"},
        {"naming": "wandb"},
        {"n_steps": 5},
        {"log_every": 0},
        {"strength": 0.0},
        {"loss_scale": -1.0},
    ],
)
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError, match="must be"):
        make_run(**options)


def test_corpus_is_lazy_deterministic_and_varied():
    corpus = make_corpus(60, seed=11)
    assert iter(corpus) is corpus
    runs = list(corpus)
    again = list(make_corpus(3, seed=11))
    assert len(runs) == 60
    for (a, ta), (b, tb) in zip(runs[:3], again, strict=True):
        assert ta.to_dict() == tb.to_dict()
        pd.testing.assert_frame_equal(a.records, b.records)
    kinds = {k for _, t in runs for k in t.kinds}
    assert kinds == set(KINDS)
    assert any(t.kinds == () for _, t in runs) and any(t.hard_negative for _, t in runs)
    lengths = [t.config["n_steps"] for _, t in runs]
    assert min(lengths) < 300 and max(lengths) > 30_000
    assert len({t.config["naming"] for _, t in runs}) == len(NAMINGS)
    assert len({t.config["log_every"] for _, t in runs}) >= 3
    strengths = [t.config["strength"] for _, t in runs if t.config["kind"]]
    assert min(strengths) < 0.4 and max(strengths) > 1.5
    weak = [t for _, t in runs if t.config["kind"] and t.config["kind"] not in t.kinds]
    assert weak and all(t.config["kind"] in t.config["candidates"] for t in weak)


def test_long_run_is_fast():
    make_run("exploding_gradients", n_steps=1000, seed=0)  # warm caches
    start = time.perf_counter()
    make_run("exploding_gradients", n_steps=100_000, seed=0)
    assert time.perf_counter() - start < 1.0  # target ~0.1 s; loose for a shared CPU
