"""`MetricWatch`: the per-step online checks of one metric (train loss or gradient norm).

NaN/Inf at once, upward spikes against the robust level of the last steps, and lasting
rises (by 25% or more) found by Bayesian online changepoint detection on block means.
All on the log scale for positive values; constant memory and O(1) amortized time per step.
"""

from __future__ import annotations

import math

import numpy as np

from dynamics_stats.callbacks.alerts import Alert
from dynamics_stats.callbacks.config import MonitorConfig
from dynamics_stats.curves.online import OnlineChangepoints, SpikeTest, to_log_scale

__all__ = ["MetricWatch"]

_SPIKE_KIND = {"train_loss": "loss_spikes", "grad_norm": "grad_norm_spike"}
_LABEL = {"train_loss": "training loss", "grad_norm": "gradient norm"}
_BEFORE_BLOCKS = 10
_MIN_LOG_RISE = math.log(1.25)  # smaller rises are not worth an alert


class MetricWatch:
    """Online checks of one metric.

    Parameters
    ----------
    role : {"train_loss", "grad_norm"}
        Which metric is watched (names the alerts).
    config : MonitorConfig
        Spike threshold, changepoint hazard and block size.
    """

    def __init__(self, role: str, config: MonitorConfig) -> None:
        self.role = role
        self.label = _LABEL.get(role, role)
        self.spikes = SpikeTest(
            z_threshold=config.spike_z, min_jump=math.log(config.spike_min_factor)
        )
        self.changes = OnlineChangepoints(hazard=config.changepoint_hazard)
        self.block = config.changepoint_block
        self.seen_non_finite = False
        self._block_sum = 0.0
        self._block_n = 0
        self._block_first = 0
        size = self.changes.max_run_length
        self._block_steps = np.zeros(size, dtype=np.int64)
        self._block_means = np.zeros(size)

    def update(self, step: int, value: float) -> Alert | None:
        """Check one value; return an alert when one is due."""
        if not math.isfinite(value):
            return self._non_finite(step, value)
        scaled = to_log_scale(value)
        spike = self.spikes.update(scaled)
        alert = self._spike(step, spike.z_score) if spike.starts_region else None
        if self._block_n == 0:
            self._block_first = step
        self._block_sum += scaled
        self._block_n += 1
        if self._block_n >= self.block:
            rise = self._close_block()
            alert = alert or rise
        return alert

    def _non_finite(self, step: int, value: float) -> Alert | None:
        if self.seen_non_finite:
            return None
        self.seen_non_finite = True
        return Alert(
            kind="divergence",
            step=step,
            metric=self.role,
            value=value,
            statistic="value",
            severity="critical",
            message=f"the {self.label} is {value} at step {step}: the run has diverged "
            "(lower the learning rate, enable gradient clipping, or check the data).",
        )

    def _spike(self, step: int, z_score: float) -> Alert:
        return Alert(
            kind=_SPIKE_KIND.get(self.role, "spike"),
            step=step,
            metric=self.role,
            value=z_score,
            statistic="z_score",
            severity="warning",
            message=f"the {self.label} spiked at step {step} ({z_score:.1f} robust standard "
            "deviations above its recent level).",
        )

    def _close_block(self) -> Alert | None:
        mean = self._block_sum / self._block_n
        first = self._block_first
        self._block_sum, self._block_n = 0.0, 0
        index = self.changes.n_seen  # index the changepoint detector gives this update
        slot = index % self._block_means.size
        self._block_steps[slot], self._block_means[slot] = first, mean
        start = self.changes.update(mean)
        if start is None or start < _BEFORE_BLOCKS:
            return None
        size = self._block_means.size
        before = self._block_means[[(i % size) for i in range(start - _BEFORE_BLOCKS, start)]]
        after = self._block_means[[(i % size) for i in range(start, index + 1)]]
        shift = float(np.median(after) - np.median(before))
        if shift < _MIN_LOG_RISE:
            return None
        start_step = int(self._block_steps[start % size])
        return Alert(
            kind="changepoint",
            step=start_step,
            metric=self.role,
            value=shift,
            statistic="log_shift",
            severity="info",
            message=f"the {self.label} level rose by a factor {math.exp(shift):.2f} from about "
            f"step {start_step} (online changepoint).",
        )
