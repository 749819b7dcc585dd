"""`Alert` and `AlertDispatcher`: how a monitor tells the user something is wrong.

Every alert goes to the Python logger ``"dynamics_stats.callbacks"`` (at the level of its
severity), to `warnings.warn` with `TrainingAlertWarning` (warnings and critical alerts),
and to the user's ``on_alert`` function when one was given.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dynamics_stats.core.errors import TrainingAlertWarning
from dynamics_stats.core.types import JSONValue, Severity

__all__ = ["LOGGER_NAME", "Alert", "AlertDispatcher", "AlertHandler"]

LOGGER_NAME = "dynamics_stats.callbacks"
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}
_MAX_KEPT = 1000


@dataclass(frozen=True, slots=True)
class Alert:
    """One problem seen while a run trains.

    Parameters
    ----------
    kind : str
        ``"divergence"`` (NaN/Inf loss or gradient norm, or a likely divergence),
        ``"loss_spikes"``, ``"grad_norm_spike"``, ``"changepoint"`` (a lasting rise), or
        one of the seven core kinds when the calibrated analysis gives it a high
        probability.
    step : int
        Optimizer step at which it was seen.
    metric : str
        Role of the metric concerned (``"train_loss"``, ``"grad_norm"``...); ``""`` for an
        alert of the full analysis.
    value : float
        The number behind the alert, named by ``statistic``.
    statistic : str
        ``"probability"`` (calibrated, from the full analysis), ``"z_score"`` (robust
        z-score of a spike), ``"log_shift"`` (rise of the log level at a changepoint) or
        ``"value"`` (the non-finite value itself).
    severity : {"info", "warning", "critical"}
        How bad it is if real.
    message : str
        One plain sentence.
    """

    kind: str
    step: int
    metric: str
    value: float
    statistic: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the alert as JSON-native values (a non-finite value becomes None)."""
        return {
            "kind": self.kind,
            "step": self.step,
            "metric": self.metric,
            "value": self.value if math.isfinite(self.value) else None,
            "statistic": self.statistic,
            "severity": self.severity,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        """Rebuild an alert from `to_dict` (None as the value becomes NaN).

        Raises
        ------
        KeyError, TypeError, ValueError
            When ``data`` is not an alert's dictionary.
        """
        severity = str(data["severity"])
        if severity not in _LEVELS:
            raise ValueError(f"unknown alert severity {severity!r}")
        value = data["value"]
        return cls(
            kind=str(data["kind"]),
            step=int(data["step"]),
            metric=str(data["metric"]),
            value=math.nan if value is None else float(value),
            statistic=str(data["statistic"]),
            severity=severity,  # type: ignore[arg-type]
            message=str(data["message"]),
        )


AlertHandler = Callable[[Alert], None]


class AlertDispatcher:
    """Send alerts to logging, warnings and the user's handler; keep the first 1000.

    Parameters
    ----------
    on_alert : callable or None, default=None
        Called with each `Alert`.
    warn : bool, default=True
        Whether warning and critical alerts also go through `warnings.warn`.
    """

    def __init__(self, on_alert: AlertHandler | None = None, *, warn: bool = True) -> None:
        self.on_alert = on_alert
        self.warn = warn
        self.alerts: list[Alert] = []
        self._logger = logging.getLogger(LOGGER_NAME)

    def emit(self, alert: Alert) -> None:
        """Send one alert everywhere it should go."""
        if len(self.alerts) < _MAX_KEPT:
            self.alerts.append(alert)
        self._logger.log(_LEVELS[alert.severity], "step %d: %s", alert.step, alert.message)
        if self.warn and alert.severity != "info":
            warnings.warn(f"step {alert.step}: {alert.message}", TrainingAlertWarning, stacklevel=3)
        if self.on_alert is not None:
            self.on_alert(alert)
