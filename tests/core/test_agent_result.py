import json
from importlib import resources

import jsonschema
import pytest

from dynamics_stats.core.agent_result import (
    AgentResult,
    AnalysisRecord,
    Confidence,
    MetricSummary,
    RunSummary,
    UpstreamValidation,
)
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.core.report import ValidationIssue, ValidationReport
from dynamics_stats.core.results import (
    SCHEMA_VERSION,
    CalibrationInfo,
    Finding,
    Recommendation,
    Risk,
)

SCHEMA = json.loads(
    (resources.files("dynamics_stats.report") / "schema" / "agent_result.v1.json").read_text()
)


def _result(**changes):
    finding = Finding(
        id="overfitting",
        kind="overfitting",
        detector="overfitting",
        probability=0.8,
        calibrated=True,
        severity="warning",
        score=2.5,
        metric="val_loss",
        onset_step=300,
        evidence=(("best_step", 300.0), ("frac_run_after_best", 0.4)),
        message="m",
    )
    fields = dict(
        status="partial",
        limitations=("x",),
        run=RunSummary(
            "a.csv",
            "lightning_csv",
            "step",
            500,
            (MetricSummary("loss", "train_loss", "min", 500, 0, 500),),
            (("train_loss", "loss"),),
        ),
        issues=tuple((k, 0.1) for k in CORE_KINDS),
        assessed=tuple((k, True) for k in CORE_KINDS),
        findings=(finding,),
        trends=(("lr_response", (("spearman", 0.5), ("n_windows", 12.0))),),
        recommendations=(
            Recommendation(
                "early_stop_and_regularize",
                "t",
                ("overfitting",),
                2,
                "e",
                values=(("stop_step", 300.0),),
            ),
            Recommendation("log_grad_norm", "t", (), 9, "e", general=True),
        ),
        risk=Risk(
            0.5,
            "medium",
            ("overfitting",),
            "m",
            (("overfitting", 0.8),),
            ("early_stop_and_regularize",),
            0.4,
        ),
        confidence=Confidence("medium", 0.6, ("r",), (("no_grad_norm", 0.15),), "why"),
        calibration=CalibrationInfo("default", "1", True, "d"),
        validation=ValidationReport("a.csv", (ValidationIssue("c", "info", "m"),)),
        package_version="0.1.0",
        upstream=UpstreamValidation(True, False, 2, "two issues", "validator"),
        hparams=(("lr", 0.001), ("name", "mlp"), ("ok", True), ("none", None)),
        coverage=(AnalysisRecord("spikes", "ran"), AnalysisRecord("gradients", "skipped", "r")),
        other_agents=("artifact_validation",),
    )
    fields.update(changes)
    return AgentResult(**fields)


def test_round_trip_and_schema_with_every_new_field():
    result = _result()
    data = json.loads(result.to_json())
    assert data["schema_version"] == SCHEMA_VERSION == "1.1"
    jsonschema.validate(data, SCHEMA)
    assert AgentResult.from_dict(data) == result
    assert data["recommendations"][0]["basis"] == "evidence"
    assert data["recommendations"][1]["basis"] == "general"
    assert data["upstream"]["passed"] is False and data["hparams"]["lr"] == 0.001


def test_a_version_1_0_document_still_loads_with_defaults():
    data = json.loads(_result().to_json())
    data["schema_version"] = "1.0"
    for key in ("upstream", "hparams", "coverage", "other_agents"):
        del data[key]
    for key in ("contributions", "lowered_by", "wasted_compute_frac"):
        del data["risk"][key]
    del data["confidence"]["factors"], data["confidence"]["explanation"]
    for rec in data["recommendations"]:
        del rec["basis"]
    jsonschema.validate(data, SCHEMA)
    old = AgentResult.from_dict(data)
    assert old.upstream == UpstreamValidation() and old.coverage == ()
    assert [r.basis for r in old.recommendations] == ["evidence", "general"]


def test_non_finite_hyper_parameters_become_null_so_round_trip_holds():
    result = _result(hparams=(("lr", float("nan")), ("wd", float("inf"))))
    assert dict(result.hparams) == {"lr": None, "wd": None}
    assert AgentResult.from_dict(json.loads(result.to_json())) == result


def test_schema_rejects_an_unknown_state_and_documents_every_property():
    data = json.loads(_result().to_json())
    data["coverage"][0]["state"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)

    def undocumented(node, path):
        missing = []
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub:
                missing.append(f"{path}.{name}")
            missing += undocumented(sub, f"{path}.{name}")
            if "items" in sub:
                missing += undocumented(sub["items"], f"{path}.{name}[]")
        return missing

    assert undocumented(SCHEMA, "$") == []
