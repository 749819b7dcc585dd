"""Helpers for the agent tests: the JSON contract and the consistency of recommendations."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import numpy as np
import pytest

from dynamics_stats.core.agent_result import AgentResult

SCHEMA = json.loads(
    (resources.files("dynamics_stats.report") / "schema" / "agent_result.v1.json").read_text()
)

_LOWER = ("lower_lr", "lower_lr_or_decay", "lower_lr_and_restart")
_RAISE = ("raise_lr",)


def check_contract(result: AgentResult) -> dict:
    """Strict JSON, schema-valid, round-trips, and recommendations cite existing findings."""
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    jsonschema.validate(data, SCHEMA)
    assert AgentResult.from_dict(data) == result
    actions = {r.action for r in result.recommendations}
    assert not ("raise_lr" in actions and actions & set(_LOWER)), actions
    ids = {f.id for f in result.findings}
    for rec in result.recommendations:
        assert set(rec.finding_ids) <= ids, (rec.action, rec.finding_ids, ids)
        assert rec.basis == ("general" if rec.general else "evidence")
        assert bool(rec.finding_ids) == (rec.basis == "evidence"), rec
    return data


def _finite_positive(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values) & (values > 0)]


def check_values_against_run(result: AgentResult, artifacts) -> int:
    """Check every concrete value against the logged data; return how many were checked."""
    checked = 0
    norm, lr = artifacts.get("grad_norm"), artifacts.get("learning_rate")
    val = artifacts.get("val_loss")
    val = val if val is not None else artifacts.get("val_metric")
    loss = artifacts.get("train_loss")
    for rec in result.recommendations:
        values = dict(rec.values)
        if "clip_value" in values:
            norms = _finite_positive(norm.values)
            assert norms.min() <= values["clip_value"] <= norms.max(), rec.text
            checked += 1
        if "stop_step" in values:
            assert int(values["stop_step"]) in set(val.steps.tolist()), rec.text
            assert f"{int(values['stop_step']):,}" in rec.text
            checked += 1
        if "restart_before_step" in values:
            assert int(values["restart_before_step"]) in set(loss.steps.tolist())
            checked += 1
        if "suggested_lr" in values and "current_lr" in values:
            new, old = values["suggested_lr"], values["current_lr"]
            assert new > 0 and old > 0
            if rec.action in _LOWER:
                assert new < old, rec.text
            if rec.action in _RAISE:
                assert new > old, rec.text
            if lr is not None and rec.action != "lower_lr_and_restart":
                assert np.isclose(old, _finite_positive(lr.values).max()), rec.text
            checked += 1
    return checked


@pytest.fixture
def contract():
    """The `check_contract` helper."""
    return check_contract


@pytest.fixture
def consistent():
    """The `check_values_against_run` helper."""
    return check_values_against_run


@pytest.fixture
def schema():
    """The agent_result JSON Schema."""
    return SCHEMA
