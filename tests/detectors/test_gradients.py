import doctest
import functools
import json

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.gradients as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.config import ChangepointConfig, CurvesConfig
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.gradients import GradientDetector
from dynamics_stats.io.synthetic import HARD_NEGATIVES, make_run

N_STEPS = 2000
SEEDS = range(8)
NEGATIVE_SEEDS = range(4)
# the detector does not read changepoints; skipping their search keeps the tests fast
CURVES = CurvesConfig(changepoints=ChangepointConfig(max_changepoints=0))


@functools.cache
def _synthetic(kind=None, seed=0, negative=None, curves=True, **options):
    run, truth = make_run(kind, n_steps=N_STEPS, seed=seed, hard_negative=negative, **options)
    artifacts = validate_run(run)
    return (model_curves(artifacts, CURVES) if curves else ModelledRun(artifacts)), truth


def _dicts(evidence):
    """NaN-safe comparison: NaN values become None."""
    return [e.to_dict() for e in evidence]


def _by_kind(run):
    return {e.kind: e for e in GradientDetector().detect(run)}


def _found(*args, **options):
    return _by_kind(_synthetic(*args, **options)[0])


def _negatives(kind, **options):
    return [
        _found(None, seed, negative, **options)[kind].score
        for seed in NEGATIVE_SEEDS
        for negative in (None, *HARD_NEGATIVES)
    ]


def _hand_made(columns):
    frames = [
        pd.DataFrame({"metric": name, "step": np.arange(1, len(v) + 1), "value": v})
        for name, v in columns.items()
    ]
    records = pd.concat(frames).assign(epoch=np.nan, wall_time=np.nan, line=0)
    return ModelledRun(validate_run(RunLog("t", "test", records)))


def _healthy(seed, n=2000):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    loss = (0.3 + 2.0 * (1 + steps / 100) ** -0.7) * np.exp(rng.normal(0, 0.05, n))
    norm = (1 + steps / 500) ** -0.3 * np.exp(rng.normal(0, 0.15, n))
    return loss, norm


def test_exploding_ranks_above_healthy_runs_and_hard_negatives():
    sick = [_found("exploding_gradients", seed)["exploding_gradients"] for seed in SEEDS]
    negatives = _negatives("exploding_gradients")
    assert min(e.score for e in sick) > max(negatives)
    assert min(e.score for e in sick) >= 1.0 > max(negatives)
    assert all(e.value("inferred") == 0.0 and e.severity == "critical" for e in sick)


def test_exploding_onset_and_steps():
    for seed in SEEDS:
        run, truth = _synthetic("exploding_gradients", seed)
        evidence = _by_kind(run)["exploding_gradients"]
        assert abs(evidence.onset_step - truth.onsets["exploding_gradients"]) <= 0.01 * N_STEPS
        assert min(evidence.steps) >= truth.onsets["exploding_gradients"] - 1


def test_a_lone_outlier_counts_half_and_more_if_the_loss_reacted():
    loss, norm = _healthy(0)
    norm = norm.copy()
    norm[1200] *= 100
    alone = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}))["exploding_gradients"]
    assert alone.score == pytest.approx(0.5 * alone.value("max_jump_decades"))
    assert alone.value("loss_reacted") == 0.0 and alone.score < 1.0
    loss = loss.copy()
    loss[1201] *= 20
    hurt = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}))["exploding_gradients"]
    assert hurt.value("loss_reacted") == 1.0 and hurt.score > alone.score


def test_vanishing_ranks_above_healthy_runs_and_hard_negatives():
    sick = [_found("vanishing_gradients", seed)["vanishing_gradients"] for seed in SEEDS]
    negatives = _negatives("vanishing_gradients")
    assert min(e.score for e in sick) >= 1.0 > 0.5 > max(negatives)


def test_vanishing_onset_and_no_explosion_when_the_norm_comes_back():
    for seed in SEEDS:
        run, truth = _synthetic("vanishing_gradients", seed)
        found = _by_kind(run)
        assert abs(
            found["vanishing_gradients"].onset_step - truth.onsets["vanishing_gradients"]
        ) <= (0.02 * N_STEPS)
        # a norm that recovers from its collapse is not an explosion
        assert found["exploding_gradients"].score < 0.5


def test_a_norm_collapsed_before_the_first_log_shows_through_the_loss_floor():
    rng = np.random.default_rng(5)
    loss = 2.0 * np.exp(rng.normal(0, 0.02, 2000))  # flat
    norm = 1e-7 * np.exp(rng.normal(0, 0.1, 2000))  # 1e-7 of the loss from the first step
    run = _hand_made({"loss": loss, "grad_norm": norm})
    evidence = _by_kind(run)["vanishing_gradients"]
    assert evidence.value("early_norm_to_loss_log10") == pytest.approx(-7.3, abs=0.1)
    # the reference is 1e-4 times the loss: 10^-4.0 * 2 against a norm of 1e-7
    assert evidence.score == pytest.approx(np.log10(2.0) - 4.0 + 7.0, abs=0.1)
    assert GradientDetector(min_norm_to_loss=0.0).detect(run)[1].score < 0.2
    for seed in (1, 3, 4):  # synthetic collapse within the first steps
        found = _found("vanishing_gradients", seed)["vanishing_gradients"]
        assert found.score >= 1.0 and found.onset_step <= 0.02 * N_STEPS


def test_a_norm_that_shrinks_while_the_loss_improves_is_not_vanishing():
    steps = np.arange(3000)
    loss = 3.0 * (1 + steps / 50) ** -1.0
    norm = 10 * (1 + steps / 50) ** -1.0
    evidence = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}))["vanishing_gradients"]
    assert evidence.value("max_fall_decades") > 1.5 and evidence.score < 0.2


def test_without_a_norm_both_kinds_are_inferred_and_weaker():
    spiky = _found("exploding_gradients", 1, with_grad_norm=False)["exploding_gradients"]
    assert spiky.value("inferred") == 1.0 and spiky.severity in ("info", "warning")
    # half the height in decades of the largest loss spike, or of the loss's rise
    height = max(spiky.value("loss_spike_height_decades"), spiky.value("loss_rise_decades"))
    assert spiky.score == pytest.approx(0.5 * height) and spiky.score > 0.1
    healthy = [_found(None, seed, with_grad_norm=False) for seed in NEGATIVE_SEEDS]
    assert max(e["exploding_gradients"].score for e in healthy) < spiky.score
    stuck = [
        _found("vanishing_gradients", seed, with_grad_norm=False)["vanishing_gradients"]
        for seed in SEEDS
    ]
    assert all(e.value("inferred") == 1.0 and e.score <= 0.5 for e in stuck)
    # inferred from the loss alone the evidence is weak: single stuck runs can score below
    # healthy ones, but stuck runs score higher on average than any healthy one
    healthy_max = max(e["vanishing_gradients"].score for e in healthy)
    assert np.mean([e.score for e in stuck]) > healthy_max


def test_scale_does_not_change_the_scores():
    for kind in ("exploding_gradients", "vanishing_gradients"):
        base = _found(kind, 2, curves=False)
        scaled = _found(kind, 2, curves=False, loss_scale=1000.0)
        for name in base:
            assert scaled[name].score == pytest.approx(base[name].score, abs=1e-9)
        with_curves = _found(kind, 2)[kind].score
        assert _found(kind, 2, loss_scale=1000.0)[kind].score == pytest.approx(
            with_curves, rel=1e-3
        )


def test_logging_interval_gives_the_same_conclusions():
    for seed in SEEDS[:4]:
        for kind in ("exploding_gradients", "vanishing_gradients"):
            assert _found(kind, seed, log_every=10)[kind].score >= 1.0
            assert _found(None, seed, log_every=10)[kind].score < 0.5


def test_without_curve_models_the_fallback_agrees():
    for kind in ("exploding_gradients", "vanishing_gradients"):
        with_curves, without = _found(kind, 5)[kind], _found(kind, 5, curves=False)[kind]
        assert with_curves.value("used_fallback") == 0.0 and without.value("used_fallback") == 1.0
        assert without.score >= 1.0
        assert abs(without.onset_step - with_curves.onset_step) <= 0.02 * N_STEPS


def test_nonfinite_norms():
    loss, norm = _healthy(1)
    norm = norm.copy()
    norm[1500:] = np.inf
    evidence = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}))["exploding_gradients"]
    assert evidence.value("nonfinite_persistence") == 1.0 and evidence.score == 1.0
    assert evidence.onset_step == 1501


def test_short_and_missing_inputs():
    loss, norm = _healthy(2, n=15)
    found = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}))  # too few norms: inferred
    assert {e.value("inferred") for e in found.values()} == {1.0}
    assert all(e.score < 0.5 for e in found.values())
    assert GradientDetector().detect(_hand_made({"grad_norm": norm})) == ()


def test_deterministic_and_json_safe():
    run, _ = _synthetic("exploding_gradients", 3)
    first = GradientDetector().detect(run)
    assert _dicts(first) == _dicts(GradientDetector().detect(run))
    for evidence in first:
        json.dumps(evidence.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("field", "value"), [("window_frac", 0.0), ("sustain_frac", -0.1), ("low_frac", 0.95)]
)
def test_bad_parameters_are_refused(field, value):
    with pytest.raises(ConfigError, match=f"GradientDetector.{field}"):
        GradientDetector(**{field: value})


def test_doctests():
    assert doctest.testmod(module).failed == 0
