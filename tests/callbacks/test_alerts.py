"""Alerts reach logging, warnings and the user's function."""

from __future__ import annotations

import json
import logging
import math

import pytest

from dynamics_stats.callbacks.alerts import LOGGER_NAME, Alert, AlertDispatcher
from dynamics_stats.core.errors import DynamicsStatsWarning, TrainingAlertWarning


def make_alert(severity: str = "warning", value: float = 7.5) -> Alert:
    return Alert(
        kind="loss_spikes",
        step=12,
        metric="train_loss",
        value=value,
        statistic="z_score",
        severity=severity,  # type: ignore[arg-type]
        message="the training loss spiked at step 12.",
    )


def test_a_warning_alert_goes_to_logging_warnings_and_the_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[Alert] = []
    dispatcher = AlertDispatcher(received.append)
    with (
        caplog.at_level(logging.INFO, logger=LOGGER_NAME),
        pytest.warns(TrainingAlertWarning, match="step 12: the training loss spiked"),
    ):
        dispatcher.emit(make_alert())
    assert received == [make_alert()]
    assert dispatcher.alerts == [make_alert()]
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_an_info_alert_is_logged_but_not_warned(
    caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        AlertDispatcher().emit(make_alert("info"))
    assert len(recwarn) == 0
    assert [r.levelno for r in caplog.records] == [logging.INFO]


def test_warnings_can_be_turned_off(recwarn: pytest.WarningsRecorder) -> None:
    AlertDispatcher(warn=False).emit(make_alert("critical"))
    assert len(recwarn) == 0


def test_alert_to_dict_is_strict_json() -> None:
    data = make_alert(value=math.nan).to_dict()
    assert data["value"] is None
    assert json.loads(json.dumps(data, allow_nan=False))["kind"] == "loss_spikes"


def test_an_alert_comes_back_from_its_dict() -> None:
    alert = make_alert()
    assert Alert.from_dict(json.loads(json.dumps(alert.to_dict()))) == alert
    back = Alert.from_dict(make_alert(value=math.inf).to_dict())
    assert math.isnan(back.value)
    with pytest.raises(ValueError, match="severity"):
        Alert.from_dict({**alert.to_dict(), "severity": "loud"})
    with pytest.raises(KeyError):
        Alert.from_dict({"kind": "loss_spikes"})


def test_the_warning_class_belongs_to_the_package_hierarchy() -> None:
    assert issubclass(TrainingAlertWarning, DynamicsStatsWarning)
