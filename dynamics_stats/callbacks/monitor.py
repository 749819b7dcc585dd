"""`TrainingMonitor`: the framework-free core of the Lightning and Hugging Face monitors.

The adapters feed it what the trainer exposes (``observe_step``, ``observe_validation``)
and apply the `MonitorActions` it returns (stop, save a checkpoint, log probabilities).

Per step the monitor only checks the values for NaN/Inf and buffers them (or, with
`TrainingMonitor.buffer_loss`, buffers the loss unread, e.g. a tensor, read with its block);
about every ``max_check_delay_seconds`` (at most ``check_every_n_steps`` steps) the buffered
block is checked for NaN/Inf and goes into the history in a few array operations, and
through the spike and changepoint tests: in the analysis worker process when the analysis
runs in the background (their alerts arrive at a later check, with their own steps), in
the training process otherwise or with ``checkpoint_before_spike``. That keeps the cost to
a few microseconds per step. The block size is set at each check from the step rate of the
last block, so the clock is not read at every step. A non-finite value read as a number is
handled at its own step, and so is a due full analysis (with `TrainingMonitor.buffer_loss`,
at the next block check).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dynamics_stats.callbacks._analysis import AnalysisRunner
from dynamics_stats.callbacks._watch import MetricWatch
from dynamics_stats.callbacks.alerts import Alert, AlertDispatcher, AlertHandler
from dynamics_stats.callbacks.config import MonitorConfig
from dynamics_stats.callbacks.history import RunHistory
from dynamics_stats.core.agent_result import AgentResult
from dynamics_stats.core.types import FloatArray, HParamValue

__all__ = [
    "REPORT_JSON",
    "REPORT_TEXT",
    "MonitorActions",
    "TrainingMonitor",
    "ValuesToArray",
    "floats_to_array",
]

REPORT_JSON = "dynamics_stats_analysis.json"
REPORT_TEXT = "dynamics_stats_analysis.txt"
ALERTS_JSON = "dynamics_stats_alerts.json"


@dataclass(frozen=True, slots=True)
class MonitorActions:
    """What the trainer should do after an observation.

    Parameters
    ----------
    stop : bool, default=False
        Stop training (only when the user turned ``stop_on_divergence`` on).
    checkpoint : bool, default=False
        Save a checkpoint now (only with ``checkpoint_before_spike``).
    probabilities : tuple of (str, float), default=()
        The seven calibrated probabilities of a full analysis that just finished.
    analysed_step : int or None, default=None
        Last step of the history that analysis saw.
    """

    stop: bool = False
    checkpoint: bool = False
    probabilities: tuple[tuple[str, float], ...] = ()
    analysed_step: int | None = None


_NOTHING = MonitorActions()
_STATE_VERSION = 1  # of `TrainingMonitor.state_dict`
_WATCHED = ("train_loss", "grad_norm")
# the MonitorConfig fields a MetricWatch reads (sent to the worker's watches)
_WATCH_FIELDS = ("spike_z", "spike_min_factor", "changepoint_hazard", "changepoint_block")
_WATCH_REPLY_TIMEOUT = 10.0  # seconds `finish` waits for the worker's last online tests


ValuesToArray = Callable[[list[Any]], FloatArray]
"""Turns the buffered values of a block (floats, or e.g. tensors) into a float array."""


def floats_to_array(values: list[Any]) -> FloatArray:
    """Return buffered numbers as a float array (the default `ValuesToArray`)."""
    return np.array(values, dtype=float)


class _Pending:
    """Values of one metric received since the last block was processed.

    The two lists are emptied in place, so a caller may keep references to them.
    """

    __slots__ = ("convert", "steps", "values")

    def __init__(self, convert: ValuesToArray = floats_to_array) -> None:
        self.convert = convert
        self.steps: list[float] = []
        self.values: list[Any] = []

    def take(self) -> tuple[FloatArray, FloatArray]:
        steps, values = np.array(self.steps, dtype=float), self.convert(self.values)
        self.steps.clear()
        self.values.clear()
        return steps, values


class TrainingMonitor:
    """Online checks, periodic full analyses and alerts for one training run.

    Parameters
    ----------
    config : MonitorConfig or None, default=None
        Settings; defaults when None.
    on_alert : callable or None, default=None
        Called with every `Alert`.
    stop_on_divergence : float or None, default=None
        Ask to stop when P(divergence) reaches this value or a loss or gradient norm is
        NaN/Inf. None never stops.
    checkpoint_before_spike : bool, default=False
        Ask for a checkpoint when a loss or gradient-norm spike region starts.
    loss_to_array : callable, default=floats_to_array
        Converts the losses given to `buffer_loss` (e.g. tensors: one conversion, and one
        device synchronisation, per block instead of per step).
    """

    def __init__(
        self,
        config: MonitorConfig | None = None,
        *,
        on_alert: AlertHandler | None = None,
        stop_on_divergence: float | None = None,
        checkpoint_before_spike: bool = False,
        loss_to_array: ValuesToArray = floats_to_array,
    ) -> None:
        self.config = config = config or MonitorConfig()
        self.stop_on_divergence = stop_on_divergence
        self.checkpoint_before_spike = checkpoint_before_spike
        self.dispatcher = AlertDispatcher(on_alert, warn=config.warn)
        self.history = RunHistory(config.max_points_per_metric)
        self.hparams: dict[str, HParamValue] = {}
        self.runner = AnalysisRunner(config.analysis, background=config.analysis_in_background)
        self.watches = {role: MetricWatch(role, config) for role in _WATCHED}
        self._watch_settings = {name: getattr(config, name) for name in _WATCH_FIELDS}
        self.last_result: AgentResult | None = None
        self.last_step = 0
        self.n_analyses = 0  # full analyses whose result arrived
        self._pending = {
            "train_loss": _Pending(loss_to_array),
            "grad_norm": _Pending(),
            "learning_rate": _Pending(),
        }
        self._loss_steps = self._pending["train_loss"].steps  # for `observe_loss`
        self._loss_values = self._pending["train_loss"].values
        self._room = 1  # observations until the next block check: the first is checked
        self._room_given = 1
        self._checked_at = time.perf_counter()
        self._next_analysis_step = config.analysis_every_n_steps
        self._alerted: set[str] = set()
        self._started = time.perf_counter()
        self.analysis_seconds = 0.0  # time the training process spent on full analyses

    @property
    def alerts(self) -> list[Alert]:
        """Alerts raised so far (the first 1000)."""
        return self.dispatcher.alerts

    def observe_step(
        self,
        step: int,
        *,
        loss: float | None = None,
        grad_norm: float | None = None,
        learning_rate: float | None = None,
    ) -> MonitorActions:
        """Check one training step; run or collect a full analysis when due.

        Returns
        -------
        MonitorActions
        """
        self.last_step = step
        urgent = False
        pending = self._pending
        if loss is not None:
            pending["train_loss"].steps.append(step)
            pending["train_loss"].values.append(loss)
            urgent = not math.isfinite(loss)
        if grad_norm is not None:
            pending["grad_norm"].steps.append(step)
            pending["grad_norm"].values.append(grad_norm)
            urgent = urgent or not math.isfinite(grad_norm)
        if learning_rate is not None:
            pending["learning_rate"].steps.append(step)
            pending["learning_rate"].values.append(learning_rate)
        self._room -= 1
        if urgent or self._room <= 0 or step >= self._next_analysis_step:
            return self._process_block(step)
        return _NOTHING

    def observe_loss(self, step: int, loss: float) -> MonitorActions:
        """Check the training loss of one step: `observe_step` with only ``loss``, faster.

        The per-step path of a monitor that reads the loss at every step: a finite loss is
        buffered (`buffer_loss`), a NaN/Inf one has its block tested at once.

        Returns
        -------
        MonitorActions
        """
        if math.isfinite(loss):
            return self.buffer_loss(step, loss)
        self.last_step = step
        self._loss_steps.append(step)
        self._loss_values.append(loss)
        self._room -= 1
        return self._process_block(step)

    def buffer_loss(self, step: int, loss: Any) -> MonitorActions:
        """Buffer the training loss of one step without reading it.

        ``loss`` (e.g. a tensor) is converted with its whole block by ``loss_to_array`` at
        the next check of the buffered steps, so a NaN/Inf loss is found there (with its
        own step) rather than at once: at most ``check_every_n_steps`` steps or about
        ``max_check_delay_seconds`` later. A due full analysis also waits for that check.

        Returns
        -------
        MonitorActions
        """
        self.last_step = step
        self._loss_steps.append(step)
        self._loss_values.append(loss)
        self._room -= 1
        if self._room > 0:
            return _NOTHING
        return self._process_block(step)

    def loss_buffer(self) -> tuple[list[float], list[Any], int]:
        """Return the lists `buffer_loss` appends to and how many losses fit before a check.

        For a host's per-step fast path: it may append up to ``n_free`` (step, loss) pairs
        to the two lists itself, steps in order, which is what as many `buffer_loss` calls
        would do (none of them would be due for a check), and give their gradient norms to
        `buffer_norm`; it then reports them with `note_buffered` before any other call.

        Returns
        -------
        (list, list, int)
            The step list, the loss list and ``n_free`` (0 or more).
        """
        return self._loss_steps, self._loss_values, max(self._room - 1, 0)

    def buffer_norm(self, step: int, grad_norm: float, learning_rate: float | None) -> None:
        """Buffer the gradient norm (and the LR) of a step a host appended itself.

        For a host's per-step fast path (`loss_buffer`): the values are checked with the
        next block, a NaN/Inf norm included (like a loss given to `buffer_loss`); the
        step is counted by `note_buffered` with its loss.
        """
        pending = self._pending
        pending["grad_norm"].steps.append(step)
        pending["grad_norm"].values.append(grad_norm)
        if learning_rate is not None:
            pending["learning_rate"].steps.append(step)
            pending["learning_rate"].values.append(learning_rate)

    def note_buffered(self, n_steps: int) -> None:
        """Count ``n_steps`` losses a host appended to the `loss_buffer` lists itself."""
        if n_steps > 0:
            self._room -= n_steps
            self.last_step = int(self._loss_steps[-1])

    def observe_validation(self, step: int, metrics: Mapping[str, float]) -> MonitorActions:
        """Record validation metrics (name -> value) at ``step``.

        Returns
        -------
        MonitorActions
        """
        stop, checkpoint = self._check_buffered()
        for name, value in metrics.items():
            self.history.append(name, step, value)
        due = self.config.analyze_on_validation or step >= self._next_analysis_step
        return _with_flags(self._analysis(step, due=due), stop, checkpoint)

    def finish(self, out_dir: str | Path | None) -> AgentResult | None:
        """Run the final analysis inline and write the report files into ``out_dir``.

        Returns
        -------
        AgentResult or None
            None when the history cannot be analysed (e.g. no loss was seen).
        """
        self._check_buffered()  # no analysis here: the final one follows
        self.runner.wait_for_watches(_WATCH_REPLY_TIMEOUT)
        self._emit_worker_alerts()
        self.runner.close()
        self.runner.background = False
        outcome = self.runner.submit(self.last_step, self.history.snapshot(), self.hparams)
        if outcome is not None and outcome[1] is not None:
            self._use_result(*outcome)
        if out_dir is not None and self.config.write_report and self.last_result is not None:
            write_report(self.last_result, self.alerts, Path(out_dir))
        return self.last_result

    def close(self) -> None:
        """Stop the analysis worker."""
        self.runner.close()

    def state_dict(self) -> dict[str, Any]:
        """Return what a resumed run needs: the history, the probability alerts raised.

        Plain Python values (lists, numbers, strings), so a checkpoint loads it with
        ``torch.load(weights_only=True)``. The online tests start afresh after a resume.
        """
        self._check_buffered()  # the buffered values belong to the history
        return {
            "version": _STATE_VERSION,
            "last_step": self.last_step,
            "history": self.history.state_dict(),
            "alerted": sorted(self._alerted),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a `state_dict` saved by an earlier run (e.g. before a resume).

        Raises
        ------
        ValueError
            When the state was saved by an unknown version of the monitor.
        """
        if state.get("version") != _STATE_VERSION:
            raise ValueError(
                f"saved monitor state has version {state.get('version')!r}, this monitor "
                f"reads version {_STATE_VERSION}: the monitor starts without it"
            )
        self.history.load_state_dict(state["history"])
        self._alerted = {str(kind) for kind in state["alerted"]}
        self.last_step = int(state["last_step"])

    def _process_block(self, step: int) -> MonitorActions:
        """Check the buffered values, add them to the history, run a due analysis."""
        stop, checkpoint = self._check_buffered()
        actions = self._analysis(step, due=step >= self._next_analysis_step)
        return _with_flags(actions, stop, checkpoint)

    def _check_buffered(self) -> tuple[bool, bool]:
        """Test the buffered values and add them to the history.

        Returns
        -------
        (bool, bool)
            Whether to stop (a divergence, with ``stop_on_divergence``) and whether to save
            a checkpoint (a spike, with ``checkpoint_before_spike``).
        """
        self._plan_next_check()
        stop = checkpoint = False
        for name, pending in self._pending.items():
            if not pending.values:
                continue
            steps, values = pending.take()
            self.history.extend(name, steps, values)
            watch = self.watches.get(name)
            if watch is None:
                continue
            for alert in self._check_block(name, watch, steps, values):
                self._emit(alert)
                stop |= alert.kind == "divergence" and self.stop_on_divergence is not None
                checkpoint |= alert.statistic == "z_score" and self.checkpoint_before_spike
        return stop, checkpoint

    def _plan_next_check(self) -> None:
        """Set how many observations the next block holds, from the last block's step rate.

        The block lasts about ``max_check_delay_seconds`` at that rate (at least one step,
        at most ``check_every_n_steps``); with ``checkpoint_before_spike``, one step.
        """
        now = time.perf_counter()
        n_done = self._room_given - self._room
        elapsed = now - self._checked_at
        self._checked_at = now
        room = self.config.check_every_n_steps
        if self.checkpoint_before_spike:  # a spike must be seen at its own step
            room = 1
        elif elapsed > 0 and n_done > 0:
            room = min(room, int(n_done * self.config.max_check_delay_seconds / elapsed))
        self._room = self._room_given = max(room, 1)

    def _check_block(
        self, name: str, watch: MetricWatch, steps: FloatArray, values: FloatArray
    ) -> list[Alert]:
        """Check a block for NaN/Inf; run its online tests here or send them to the worker.

        Returns
        -------
        list of Alert
            A divergence first, then the spikes and rises found here, in step order.
        """
        alerts = []
        in_worker = not self.checkpoint_before_spike  # a spike must be seen at its step
        if not (in_worker and self.runner.watch(name, steps, values, self._watch_settings)):
            alerts = watch.update_many(steps, values)
        non_finite = np.flatnonzero(~np.isfinite(values))
        if non_finite.size:
            first = int(non_finite[0])
            divergence = watch.check(int(steps[first]), float(values[first]))
            if divergence is not None:
                alerts.insert(0, divergence)
        return alerts

    def _emit_worker_alerts(self) -> None:
        """Pass on the alerts of the online tests that came back from the worker."""
        for alert in self.runner.take_alerts():
            self._emit(alert)

    def _analysis(self, step: int, *, due: bool) -> MonitorActions:
        """Collect a finished analysis; start one when due and within the time budget."""
        started = time.perf_counter()
        # a finished background analysis is collected, and the next one sent at the same check
        outcome = self.runner.poll()
        self._emit_worker_alerts()
        if due and not self.runner.busy and self._within_budget():
            every = self.config.analysis_every_n_steps  # due again at the next multiple
            self._next_analysis_step = (step // every + 1) * every
            # inline the result comes back at once (nothing was collected); sent, None
            outcome = self.runner.submit(step, self.history.snapshot(), self.hparams) or outcome
        elif due and self._next_analysis_step <= step:
            # postponed (worker busy or over budget): retry at the next block, not every step
            self._next_analysis_step = step + self._room
        actions = _NOTHING if outcome is None else self._use_result(*outcome)
        if due or outcome is not None:
            self.analysis_seconds += time.perf_counter() - started
        return actions

    def _within_budget(self) -> bool:
        """Whether full analyses have so far taken at most their share of the time."""
        frac = self.config.max_analysis_time_frac
        if frac is None:
            return True
        return self.analysis_seconds <= frac * (time.perf_counter() - self._started)

    def _use_result(self, step: int, result: AgentResult | None) -> MonitorActions:
        if result is None:
            return _NOTHING
        self.last_result = result
        self.n_analyses += 1
        threshold = self.config.alert_probability
        for kind, probability in result.issues:
            if probability >= threshold and kind not in self._alerted:
                self._alerted.add(kind)
                self._emit(_probability_alert(kind, step, probability))
        p_divergence = result.probability("divergence")
        limit = self.stop_on_divergence
        stop = limit is not None and math.isfinite(p_divergence) and p_divergence >= limit
        return MonitorActions(stop=stop, probabilities=result.issues, analysed_step=step)

    def _emit(self, alert: Alert) -> None:
        self.dispatcher.emit(alert)


def _with_flags(actions: MonitorActions, stop: bool, checkpoint: bool) -> MonitorActions:
    """``actions``, also stopping or saving a checkpoint when the online checks ask."""
    if not (stop or checkpoint):
        return actions
    return replace(actions, stop=stop or actions.stop, checkpoint=checkpoint)


def _probability_alert(kind: str, step: int, probability: float) -> Alert:
    return Alert(
        kind=kind,
        step=step,
        metric="",
        value=probability,
        statistic="probability",
        severity="critical" if kind == "divergence" else "warning",
        message=f"calibrated analysis of the run up to step {step}: P({kind}) = {probability:.2f}.",
    )


def write_report(result: AgentResult, alerts: list[Alert], out_dir: Path) -> tuple[Path, ...]:
    """Write the analysis (JSON, text) and the alerts (JSON) into ``out_dir``.

    Returns
    -------
    tuple of Path
        The files written.
    """
    from dynamics_stats.report.render import render_text

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / REPORT_JSON, out_dir / REPORT_TEXT, out_dir / ALERTS_JSON)
    paths[0].write_text(result.to_json(), encoding="utf-8")
    paths[1].write_text(render_text(result), encoding="utf-8")
    payload = [a.to_dict() for a in alerts]
    paths[2].write_text(json.dumps(payload, indent=2, allow_nan=False), encoding="utf-8")
    return paths
