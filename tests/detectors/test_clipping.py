import dataclasses
import doctest
import json

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors.clipping as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.clipping import ClippingDetector, clip_threshold
from dynamics_stats.io.synthetic import make_run

SPIKES = [500, 1500, 2500]


def _dicts(evidence):
    """NaN-safe comparison: NaN values become None."""
    return [e.to_dict() for e in evidence]


def _hand_made(columns, hparams=None, *, every=1):
    frames = []
    for name, values in columns.items():
        steps = np.arange(1, len(values) + 1)[every - 1 :: every]
        values = np.asarray(values, float)[every - 1 :: every]
        frames.append(pd.DataFrame({"metric": name, "step": steps, "value": values}))
    records = pd.concat(frames).assign(epoch=np.nan, wall_time=np.nan, line=0)
    return ModelledRun(validate_run(RunLog("t", "test", records, hparams=hparams or {})))


def _norms(seed, n=3000, spikes=()):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    loss = (0.3 + 2.0 * (1 + steps / 100) ** -0.7) * np.exp(rng.normal(0, 0.05, n))
    norm = (1 + steps / 500) ** -0.3 * np.exp(rng.normal(0, 0.15, n))
    norm[list(spikes)] *= 50
    return loss, norm


def _by_kind(run, detector=None):
    return {e.kind: e for e in (detector or ClippingDetector()).detect(run)}


def test_without_a_threshold_both_scores_are_zero_and_a_clip_is_recommended():
    loss, norm = _norms(0, spikes=SPIKES)
    found = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}))
    assert set(found) == {"clipping_ineffective", "clipping_too_aggressive"}
    evidence = found["clipping_ineffective"]
    assert evidence.score == 0.0 and evidence.value("threshold_known") == 0.0
    clip = evidence.value("recommended_clip")
    stable = norm[150:][np.abs(np.log10(norm[150:])) < 0.5]
    assert clip == pytest.approx(np.quantile(stable, 0.95), rel=0.05)
    assert evidence.value("spikes_clipped_at_recommended") == 3 == evidence.value("n_norm_spikes")
    assert "would clip" in evidence.message


def test_a_threshold_below_typical_norms_is_too_aggressive():
    loss, norm = _norms(1)
    low = float(np.quantile(norm, 0.2))
    found = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}, {"gradient_clip_val": low}))
    assert found["clipping_too_aggressive"].score >= 1.5
    assert found["clipping_too_aggressive"].value("frac_clipped") == pytest.approx(0.8, abs=0.05)
    high = float(np.quantile(norm, 0.999))
    found = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}, {"max_grad_norm": high}))
    assert found["clipping_too_aggressive"].score < 0.05
    assert found["clipping_ineffective"].score == 0.0  # no spikes to let through


def test_a_threshold_far_above_the_spikes_is_ineffective():
    loss, norm = _norms(2, spikes=SPIKES)
    run = _hand_made({"loss": loss, "grad_norm": norm}, {"trainer.gradient_clip_val": 1e4})
    evidence = _by_kind(run)["clipping_ineffective"]
    assert evidence.score >= 1.0 and evidence.value("spikes_below_threshold") == 3
    assert evidence.severity == "warning"
    fitted = evidence.value("recommended_clip")
    run = _hand_made({"loss": loss, "grad_norm": norm}, {"max_grad_norm": fitted})
    assert _by_kind(run)["clipping_ineffective"].score == 0.0


def test_clipping_switched_off_lets_every_spike_through():
    loss, norm = _norms(3, spikes=SPIKES)
    run = _hand_made({"loss": loss, "grad_norm": norm}, {"max_grad_norm": 0.0})
    evidence = _by_kind(run)["clipping_ineffective"]
    assert evidence.value("clipping_enabled") == 0.0 and "off" in evidence.message
    # the largest norm lies about 50x above the recommended clip: log10(50) ~ 1.7 decades
    assert 1.2 < evidence.score < 2.2


def test_threshold_sources():
    loss, norm = _norms(4)
    assert np.isnan(clip_threshold(_hand_made({"loss": loss}).artifacts).value)
    metric = _hand_made({"loss": loss, "grad_norm": norm, "clip_threshold": np.full(3000, 0.7)})
    assert clip_threshold(metric.artifacts).value == 0.7
    clipped = _hand_made(
        {"loss": loss, "grad_norm": norm, "grad_norm_clipped": np.minimum(norm, 0.9)}
    )
    found = clip_threshold(clipped.artifacts)
    assert found.value == pytest.approx(0.9) and not found.lower_bound
    never = _hand_made({"loss": loss, "grad_norm": norm, "grad_norm_clipped": norm})
    found = clip_threshold(never.artifacts)
    assert found.lower_bound and found.value == pytest.approx(norm.max())
    assert clip_threshold(_hand_made({"loss": loss}, {"grad_clip": True}).artifacts).source == ""


def test_scale_and_logging_interval():
    loss, norm = _norms(5, spikes=SPIKES)
    base = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}, {"max_grad_norm": 100.0}))
    scaled = _by_kind(
        _hand_made({"loss": 1e3 * loss, "grad_norm": 1e3 * norm}, {"max_grad_norm": 1e5})
    )
    for kind, evidence in base.items():
        assert scaled[kind].score == pytest.approx(evidence.score, abs=1e-9)
    sparse = _hand_made({"loss": loss, "grad_norm": norm}, {"max_grad_norm": 100.0}, every=10)
    assert _by_kind(sparse)["clipping_ineffective"].score == 0.0  # the spikes were not logged
    spiky = norm.copy()
    spiky[[499 + 10 * k for k in range(-1, 2)]] *= 50  # spikes on logged steps
    found = _by_kind(
        _hand_made({"loss": loss, "grad_norm": spiky}, {"max_grad_norm": 100.0}, every=10)
    )
    assert found["clipping_ineffective"].score >= 1.0


def test_synthetic_explosion_with_a_loose_threshold():
    run, _ = make_run("exploding_gradients", n_steps=2000, seed=2, naming="hf")
    loose = dataclasses.replace(run, hparams=dict(run.hparams) | {"max_grad_norm": 1e6})
    evidence = _by_kind(ModelledRun(validate_run(loose)))["clipping_ineffective"]
    assert evidence.score >= 1.0 and evidence.value("n_norm_spikes") > 10


def test_short_and_missing_inputs():
    loss, norm = _norms(6, n=15)
    found = _by_kind(_hand_made({"loss": loss, "grad_norm": norm}, {"max_grad_norm": 1.0}))
    assert all(e.score == 0.0 and e.value("n_points") == 15 for e in found.values())
    assert ClippingDetector().detect(_hand_made({"loss": loss})) == ()


def test_deterministic_and_json_safe():
    loss, norm = _norms(7, spikes=SPIKES)
    run = _hand_made({"loss": loss, "grad_norm": norm}, {"max_grad_norm": 0})
    first = ClippingDetector().detect(run)
    assert _dicts(first) == _dicts(ClippingDetector().detect(run))
    for evidence in first:  # the threshold is inf here: to_dict turns it into None
        json.dumps(evidence.to_dict(), allow_nan=False)


@pytest.mark.parametrize(("field", "value"), [("stable_quantile", 0.2), ("aggressive_frac", 0.0)])
def test_bad_parameters_are_refused(field, value):
    with pytest.raises(ConfigError, match=f"ClippingDetector.{field}"):
        ClippingDetector(**{field: value})


def test_doctests():
    assert doctest.testmod(module).failed == 0
