import csv
import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

import dynamics_stats
from dynamics_stats import InputError, TrainingDynamicsConfig, load_run, validate_run
from dynamics_stats.agent.analyze import analyze, analyze_in_detail
from dynamics_stats.core.agent_result import AgentResult
from dynamics_stats.detectors import CORE_KINDS
from dynamics_stats.examples import example_path

# A handful of real public runs: different formats, with and without validation, gradient
# norm and learning rate, healthy and sick.
PUBLIC_RUNS = (
    "hf_vit_skin_cancer",
    "pl_yolov3_lr0p09",
    "jl_linprobe_konkle",
    "hf_whisper_braj_lr3e3",
    "keras_mnist_dd",
    "llmc_gpt2_run2_stdout",
)


def test_bundled_example_is_diagnosed_as_overfitting_from_its_best_step(contract, consistent):
    artifacts = validate_run(load_run(example_path()))
    result = analyze(artifacts)
    data = contract(result)
    assert set(data["issues"]) == set(CORE_KINDS)
    assert result.probability("overfitting") > 0.5
    finding = next(f for f in result.findings if f.kind == "overfitting")
    # the script that made the example measured the validation minimum at step 349
    assert abs(finding.onset_step - 349) <= 100
    early_stop = next(r for r in result.recommendations if r.action == "early_stop_and_regularize")
    assert "overfitting" in early_stop.finding_ids
    assert consistent(result, artifacts) >= 1
    assert dict(result.hparams) == dict(artifacts.hparams)
    assert result.upstream.ran is None


def _save_and_reload(result, tmp_path, name):
    path = tmp_path / f"{name}.json"
    path.write_text(result.to_json())
    return json.loads(path.read_text())


@pytest.mark.parametrize("run_id", PUBLIC_RUNS)
def test_public_run_saved_result_is_valid_round_trips_and_is_consistent(
    run_id, public_runs, tmp_path, schema, contract, consistent
):
    artifacts = validate_run(load_run(public_runs / run_id))
    result = analyze(artifacts)
    data = _save_and_reload(result, tmp_path, run_id)
    jsonschema.validate(data, schema)
    assert AgentResult.from_dict(data) == result
    contract(result)
    consistent(result, artifacts)
    assert result.status in ("complete", "partial")
    assert {r.name for r in result.coverage} >= {"divergence", "spikes", "lr_response"}
    if result.status == "partial":
        assert result.limitations


def test_train_loss_only_gives_a_partial_result_with_precise_limitations(contract):
    steps = np.arange(500)
    frame = pd.DataFrame({"step": steps, "loss": 2.0 / (1 + steps / 50)})
    result = analyze(frame)
    contract(result)
    assert result.status == "partial"
    assessed = dict(result.assessed)
    assert not assessed["overfitting"]
    assert any("overfitting" in line for line in result.limitations)
    assert any(r.general for r in result.recommendations)


def test_clip_recommendation_lies_inside_the_observed_norms(contract):
    rng = np.random.default_rng(0)
    steps = np.arange(3000)
    norm = np.exp(rng.normal(0, 0.2, 3000))
    norm[1500:1530] *= 100
    loss = (0.3 + 2 * (1 + steps / 100) ** -0.7) * np.exp(rng.normal(0, 0.03, 3000))
    loss[1500:1530] *= 4
    # findings from probability 0.3: this test is about the clip value, not about detection
    config = TrainingDynamicsConfig(min_probability=0.3)
    result = analyze(pd.DataFrame({"step": steps, "loss": loss, "grad_norm": norm}), config)
    contract(result)
    clip = [r for r in result.recommendations if r.action == "clip_gradients"]
    assert clip, [f.kind for f in result.findings]
    value = dict(clip[0].values)["clip_value"]
    assert norm.min() < value < norm.max()
    # the stable norms are lognormal around 1 with sigma 0.2: their 95th percentile ~ 1.39
    assert 1.2 < value < 1.6


def test_upstream_flag_of_analyze_in_detail_is_recorded():
    artifacts = validate_run(load_run(example_path()))
    details = analyze_in_detail(artifacts, upstream_validated=True)
    assert details.result.upstream.ran is True
    assert "not_validated_upstream" not in dict(details.result.confidence.factors)


def test_nothing_numeric_raises():
    with pytest.raises(InputError):
        analyze(pd.DataFrame({"step": [1, 2], "loss": ["a", "b"]}))


def test_public_function_is_exported():
    assert dynamics_stats.analyze is analyze


@pytest.mark.slow
def test_every_public_run_gives_a_valid_result(public_runs, contract, consistent):
    with open(public_runs / "index.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        artifacts = validate_run(load_run(public_runs / row["run_id"]))
        result = analyze(artifacts)
        contract(result)
        consistent(result, artifacts)
        assert result.status in ("complete", "partial")
