"""SweepResult: JSON round trip, schema, tidy frame and text summary."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from dynamics_stats.sweeps import SweepResult, analyze_sweep


@pytest.fixture(scope="module")
def result(make_sweep) -> SweepResult:
    return analyze_sweep(make_sweep(3, n_runs=80), n_bootstrap=100, n_estimators=40)


def _schema() -> dict:
    text = resources.files("dynamics_stats").joinpath("report/schema/sweep_result.v1.json")
    return json.loads(text.read_text())


def test_round_trip_is_equal(result: SweepResult) -> None:
    again = SweepResult.from_dict(json.loads(result.to_json()))
    assert again == result
    assert again.to_dict() == result.to_dict()


def test_output_is_strict_json_and_matches_the_schema(result: SweepResult) -> None:
    data = result.to_dict()
    json.dumps(data, allow_nan=False)
    jsonschema.validate(data, _schema())
    assert data["schema_version"] == "1.0"
    assert data["objective"] == {"name": "best_val_loss", "direction": "minimize"}
    assert [p["rank"] for p in data["parameters"]] == list(range(1, len(data["parameters"]) + 1))
    assert len(data["runs"]) == data["n_runs"] == 80
    assert set(data["runs"][0]["problems"]) >= {"p_divergence", "p_stalled"}


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(_schema())


def test_schema_rejects_a_broken_result(result: SweepResult) -> None:
    data = result.to_dict()
    data["parameters"][0]["significant"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, _schema())


def test_to_frame_has_one_row_per_parameter(result: SweepResult) -> None:
    frame = result.to_frame()
    assert list(frame.index) == [p.name for p in result.parameters]
    assert {"importance_low", "importance_high", "spearman", "significant"} <= set(frame.columns)
    lr = frame.loc["lr"]
    assert lr["importance_low"] <= lr["importance"] <= lr["importance_high"]


def test_summary_lists_every_parameter(result: SweepResult) -> None:
    text = result.summary()
    for effect in result.parameters:
        assert effect.name in text
    assert "best_val_loss" in text.splitlines()[0]


def test_parameter_lookup_names_the_choices(result: SweepResult) -> None:
    assert result.parameter("lr").name == "lr"
    with pytest.raises(LookupError, match="Available: .*lr"):
        result.parameter("learning_rate")
