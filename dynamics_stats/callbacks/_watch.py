"""`MetricWatch`: the per-step online checks of one metric (train loss or gradient norm).

The first NaN/Inf value, with its step (`MetricWatch.check`); upward spikes against the
robust level of the last steps and lasting rises (by 25% or more) found by Bayesian online
changepoint detection on block means, both on blocks of values (`MetricWatch.update_many`)
so their cost is a few array operations per block. All on the log scale for positive
values; constant memory and O(1) amortized time per step.
"""

from __future__ import annotations

import math

import numpy as np

from dynamics_stats.callbacks.alerts import Alert
from dynamics_stats.callbacks.config import MonitorConfig
from dynamics_stats.core.types import FloatArray
from dynamics_stats.curves.online import OnlineChangepoints, SpikeTest, to_log_scale_array

__all__ = ["MetricWatch"]

_SPIKE_KIND = {"train_loss": "loss_spikes", "grad_norm": "grad_norm_spike"}
_LABEL = {"train_loss": "training loss", "grad_norm": "gradient norm"}
_BEFORE_BLOCKS = 10
_MIN_LOG_RISE = math.log(1.25)  # smaller rises are not worth an alert
_SPIKE_REFRESH = 64  # the robust level (of the last 64 values) is refreshed every 64
_WARMUP_BLOCKS = 10  # block means that set the changepoint detector's prior


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
            z_threshold=config.spike_z,
            min_jump=math.log(config.spike_min_factor),
            refresh_every=_SPIKE_REFRESH,
        )
        self.changes = OnlineChangepoints(hazard=config.changepoint_hazard, n_warmup=_WARMUP_BLOCKS)
        self.block = config.changepoint_block
        self.seen_non_finite = False
        self._pending_steps: list[float] = []  # finite values not yet in a closed block
        self._pending_values: list[float] = []
        size = self.changes.max_run_length
        self._block_steps = np.zeros(size, dtype=np.int64)
        self._block_means = np.zeros(size)
        self._change_start: int | None = None  # a change found, waiting for one more block

    def check(self, step: int, value: float) -> Alert | None:
        """Return a divergence alert for the first non-finite value, else None."""
        if math.isfinite(value) or self.seen_non_finite:
            return None
        return self._non_finite(step, value)

    def update_many(self, steps: FloatArray, values: FloatArray) -> list[Alert]:
        """Run the spike and changepoint tests on values in step order.

        Non-finite values are left out (`check` reports them). The outcome is the same
        whatever the blocks the values arrive in.

        Returns
        -------
        list of Alert
            Spike regions that started and level rises found, in step order.
        """
        scaled = to_log_scale_array(np.asarray(values, dtype=float))
        block = self.spikes.update_many(scaled)
        alerts = [self._spike(int(steps[i]), float(block.z_scores[i])) for i in block.region_starts]
        finite = np.isfinite(scaled)
        self._pending_steps.extend(np.asarray(steps)[finite].tolist())
        self._pending_values.extend(scaled[finite].tolist())
        while len(self._pending_values) >= self.block:
            rise = self._close_block()
            if rise is not None:
                alerts.append(rise)
        return sorted(alerts, key=lambda alert: alert.step)

    def _non_finite(self, step: int, value: float) -> Alert:
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
        mean = math.fsum(self._pending_values[: self.block]) / self.block
        first = int(self._pending_steps[0])
        del self._pending_values[: self.block], self._pending_steps[: self.block]
        index = self.changes.n_seen  # index the changepoint detector gives this update
        slot = index % self._block_means.size
        self._block_steps[slot], self._block_means[slot] = first, mean
        start = self.changes.update(mean)
        if start is not None and start >= _BEFORE_BLOCKS:
            self._change_start = start
        if self._change_start is None or index <= self._change_start:
            return None  # the block where the change began may mix both levels: wait one
        start, self._change_start = self._change_start, None
        return self._rise_alert(start, index)

    def _rise_alert(self, start: int, index: int) -> Alert | None:
        """Alert when the level after block ``start`` is 25% or more above the level before."""
        size = self._block_means.size
        before = self._block_means[[(i % size) for i in range(start - _BEFORE_BLOCKS, start)]]
        after = self._block_means[[(i % size) for i in range(start + 1, index + 1)]]
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
