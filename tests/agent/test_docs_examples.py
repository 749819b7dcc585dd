"""The two integration examples of docs/integration.md run on real saved results."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats import analyze, load_run, validate_run
from dynamics_stats.examples import example_path
from dynamics_stats.io.synthetic import make_run

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _module(name):
    path = EXAMPLES / f"{name}.py"
    if not path.is_file():
        pytest.skip(f"docs example not found at {path}")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def saved_example(tmp_path_factory):
    """The bundled real run's result, saved as JSON and read back."""
    path = tmp_path_factory.mktemp("results") / "digits.json"
    path.write_text(analyze(example_path()).to_json())
    return path


def test_integration_agent_links_overfitting_to_a_small_dataset(saved_example, tmp_path, capsys):
    integration = _module("cross_artifact_integration")
    training = json.loads(saved_example.read_text())
    quality = {"issues": [{"kind": "small_dataset"}, {"kind": "label_noise"}]}
    joint = integration.correlate(training, quality)
    assert [(j["training_finding"], j["data_issue"]) for j in joint] == [
        ("overfitting", "small_dataset")
    ]
    overfitting = next(f for f in training["findings"] if f["kind"] == "overfitting")
    assert joint[0]["probability"] == overfitting["probability"]
    assert joint[0]["onset_step"] == overfitting["onset_step"]
    assert integration.correlate(training, {"issues": [{"kind": "label_noise"}]}) == []
    quality_path = tmp_path / "quality.json"
    quality_path.write_text(json.dumps(quality))
    assert integration.main([str(saved_example), str(quality_path)]) == 0
    assert json.loads(capsys.readouterr().out) == joint


def test_advisor_turns_the_stop_step_into_max_steps(saved_example, capsys):
    advisor = _module("optimization_advisor")
    result = json.loads(saved_example.read_text())
    proposal = advisor.propose_changes(result)
    changes = {c["hparam"]: c for c in proposal["changes"]}
    stop = changes["max_steps"]
    val_steps = validate_run(load_run(example_path())).get("val_loss").steps.tolist()
    assert stop["proposed"] in val_steps and stop["because"] == ["overfitting"]
    assert advisor.main([str(saved_example)]) == 0
    assert json.loads(capsys.readouterr().out) == proposal


def test_advisor_lowers_the_lr_of_a_diverging_run_and_clips(tmp_path):
    advisor = _module("optimization_advisor")
    result = json.loads(analyze(make_run("divergence", seed=0)[0]).to_json())
    proposal = advisor.propose_changes(result, {"optimizer.learning_rate": 1e-3})
    changes = {c["hparam"]: c for c in proposal["changes"]}
    lr = changes["learning_rate"]
    assert lr["current"] == 1e-3 and lr["action"] == "lower_lr_and_restart"
    rec = next(r for r in result["recommendations"] if r["action"] == "lower_lr_and_restart")
    assert lr["proposed"] == rec["values"]["suggested_lr"] < rec["values"]["current_lr"]
    assert "max_grad_norm" in changes


def test_advisor_keeps_general_advice_as_notes_and_marks_partial_results_tentative():
    advisor = _module("optimization_advisor")
    steps = np.arange(400)
    frame = pd.DataFrame({"step": steps, "loss": 2.0 / (1 + steps / 40)})
    result = json.loads(analyze(frame).to_json())
    proposal = advisor.propose_changes(result)
    assert proposal["tentative"] and proposal["changes"] == []
    assert any("validation loss" in note for note in proposal["notes"])
