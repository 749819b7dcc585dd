"""`MonitorHost`: what the framework callbacks share — building and exposing the monitor."""

from __future__ import annotations

from typing import Any

from dynamics_stats.callbacks._grad_norm import GradNormSchedule
from dynamics_stats.callbacks.alerts import Alert, AlertHandler
from dynamics_stats.callbacks.config import MonitorConfig
from dynamics_stats.callbacks.monitor import TrainingMonitor, floats_to_array
from dynamics_stats.core.agent_result import AgentResult
from dynamics_stats.core.types import FloatArray

__all__ = ["MonitorHost"]


class MonitorHost:
    """Mixin of `LightningMonitor` and `HFMonitor`: owns one `TrainingMonitor`.

    A framework callback calls `_init_host` from its ``__init__`` and `_new_monitor` when a
    new run starts (a fresh history and alert list per fit).
    """

    config: MonitorConfig
    monitor: TrainingMonitor
    _options: tuple[AlertHandler | None, float | None, bool]

    def _init_host(
        self,
        config: MonitorConfig | None,
        *,
        on_alert: AlertHandler | None,
        stop_on_divergence: float | None,
        checkpoint_before_spike: bool,
    ) -> None:
        self.config = config or MonitorConfig()
        self._options = (on_alert, stop_on_divergence, checkpoint_before_spike)
        self.monitor = self._new_monitor()

    def _new_monitor(self) -> TrainingMonitor:
        on_alert, stop, checkpoint = self._options
        return TrainingMonitor(
            self.config,
            on_alert=on_alert,
            stop_on_divergence=stop,
            checkpoint_before_spike=checkpoint,
            loss_to_array=self._loss_to_array,
        )

    def _loss_to_array(self, values: list[Any]) -> FloatArray:
        """Convert a block of losses given to `TrainingMonitor.buffer_loss` to floats."""
        return floats_to_array(values)

    def _grad_norm_schedule(self) -> GradNormSchedule:
        """When to compute the gradient norm: every step when checkpointing before spikes."""
        every = 1 if self._options[2] else self.config.grad_norm_every
        return GradNormSchedule(every, self.config.grad_norm_cost_frac)

    @property
    def alerts(self) -> list[Alert]:
        """Alerts raised so far."""
        return self.monitor.alerts

    @property
    def result(self) -> AgentResult | None:
        """The latest full analysis (the final one after training)."""
        return self.monitor.last_result
