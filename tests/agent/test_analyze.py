import csv
import json
from importlib import resources

import jsonschema
import numpy as np
import pandas as pd
import pytest

import dynamics_stats
from dynamics_stats import InputError
from dynamics_stats.agent.analyze import analyze
from dynamics_stats.core.agent_result import AgentResult
from dynamics_stats.detectors import CORE_KINDS
from dynamics_stats.examples import example_path

SCHEMA = json.loads(
    (resources.files("dynamics_stats.report") / "schema" / "agent_result.v1.json").read_text()
)


def _check_contract(result):
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    jsonschema.validate(data, SCHEMA)
    assert AgentResult.from_dict(data) == result
    ids = {f.id for f in result.findings}
    for rec in result.recommendations:
        assert set(rec.finding_ids) <= ids
    return data


def test_bundled_example_is_diagnosed_as_overfitting_from_its_best_step():
    result = analyze(example_path())
    data = _check_contract(result)
    assert set(data["issues"]) == set(CORE_KINDS)
    assert result.probability("overfitting") > 0.5
    finding = next(f for f in result.findings if f.kind == "overfitting")
    # the script that made the example measured the validation minimum at step 349
    assert abs(finding.onset_step - 349) <= 100
    early_stop = next(r for r in result.recommendations if r.action == "early_stop_and_regularize")
    assert "overfitting" in early_stop.finding_ids


def test_train_loss_only_gives_a_partial_result_with_precise_limitations():
    steps = np.arange(500)
    frame = pd.DataFrame({"step": steps, "loss": 2.0 / (1 + steps / 50)})
    result = analyze(frame)
    _check_contract(result)
    assert result.status == "partial"
    assessed = dict(result.assessed)
    assert not assessed["overfitting"]  # no validation metric
    assert any("overfitting" in line for line in result.limitations)
    assert any(r.general for r in result.recommendations)


def test_clip_recommendation_lies_inside_the_observed_norms():
    rng = np.random.default_rng(0)
    steps = np.arange(3000)
    norm = np.exp(rng.normal(0, 0.2, 3000))
    norm[1500:1530] *= 100
    loss = (0.3 + 2 * (1 + steps / 100) ** -0.7) * np.exp(rng.normal(0, 0.03, 3000))
    loss[1500:1530] *= 4
    result = analyze(pd.DataFrame({"step": steps, "loss": loss, "grad_norm": norm}))
    _check_contract(result)
    clip = [r for r in result.recommendations if r.action == "clip_gradients"]
    assert clip, [f.kind for f in result.findings]
    value = dict(clip[0].values)["clip_value"]
    assert norm.min() < value < norm.max()


def test_nothing_numeric_raises():
    with pytest.raises(InputError):
        analyze(pd.DataFrame({"step": [1, 2], "loss": ["a", "b"]}))


def test_public_function_is_exported():
    assert dynamics_stats.analyze is analyze


@pytest.mark.slow
def test_every_public_run_gives_a_valid_result(public_runs):
    with open(public_runs / "index.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        result = analyze(public_runs / row["run_id"])
        _check_contract(result)
        assert result.status in ("complete", "partial")
