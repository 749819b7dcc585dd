"""`HFMonitor`: a Hugging Face ``TrainerCallback`` that watches training as it runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from dynamics_stats.callbacks._grad_norm import total_grad_norm
from dynamics_stats.callbacks._host import MonitorHost
from dynamics_stats.callbacks.alerts import AlertHandler
from dynamics_stats.callbacks.config import MonitorConfig
from dynamics_stats.callbacks.monitor import MonitorActions
from dynamics_stats.validate.roles import infer_role

__all__ = ["HFMonitor"]

_HPARAMS = ("learning_rate", "max_grad_norm", "weight_decay", "warmup_steps", "seed")
# logged name -> the monitor's history name (as `TrainingMonitor.observe_step` records them)
_LOGGED = {"loss": "train_loss", "grad_norm": "grad_norm", "learning_rate": "learning_rate"}


class HFMonitor(MonitorHost, TrainerCallback):
    """Watch a Hugging Face ``Trainer`` run: online checks at each log, full analysis every N steps.

    Reads what the Trainer logs (``loss``, the pre-clip ``grad_norm``, ``learning_rate``)
    at each ``on_log``, so the online checks run every ``logging_steps``, and the
    ``eval_*`` metrics of each evaluation (``on_evaluate``). Gradients are also checked for
    NaN/Inf between logs (``on_pre_optimizer_step``, on the schedule of `GradNormSchedule`:
    every step unless the steps are very short), which catches a run whose logged loss
    still looks finite; not when the Trainer logs the gradient norm at every step. Nothing
    intervenes unless asked.

    Parameters
    ----------
    config : MonitorConfig or None, default=None
        Settings (analysis period, thresholds, reports); defaults when None.
    on_alert : callable or None, default=None
        Called with every `Alert` (besides logging and warnings).
    stop_on_divergence : float or None, default=None
        Set ``control.should_training_stop`` when P(divergence) reaches this value or the
        loss or gradient norm is NaN/Inf. None: never stop.
    checkpoint_before_spike : bool, default=False
        Set ``control.should_save`` when a spike region starts.

    Notes
    -----
    After each full analysis the seven probabilities are added to the Trainer's own log
    (``state.log_history``, hence ``trainer_state.json``) as ``dynamics/p_<kind>``.

    A run resumed from a checkpoint (``resume_from_checkpoint``) starts with the metrics
    the Trainer logged before it (``state.log_history``), so it is analysed as a whole.

    In distributed training only the world process zero monitors (one analysis worker, one
    set of alerts and reports; the Trainer's logged loss is already averaged over the
    processes). With an intervention turned on and several processes, the monitoring
    process's decision is held and shared with every process at the next ``on_step_end``
    (one ``torch.distributed.all_reduce`` per step), so all of them stop, or save, at the
    same step: one step after the one where it was taken.

    Examples
    --------
    >>> trainer = transformers.Trainer(..., callbacks=[HFMonitor()])  # doctest: +SKIP
    """

    def __init__(
        self,
        config: MonitorConfig | None = None,
        *,
        on_alert: AlertHandler | None = None,
        stop_on_divergence: float | None = None,
        checkpoint_before_spike: bool = False,
    ) -> None:
        self._init_host(
            config,
            on_alert=on_alert,
            stop_on_divergence=stop_on_divergence,
            checkpoint_before_spike=checkpoint_before_spike,
        )
        self.grad_norm_schedule = self._grad_norm_schedule()
        self._monitors = True  # this process monitors (world process zero)
        self._shares_decisions = False  # several processes and an intervention turned on
        self._held = (False, False)  # stop and save, until shared at the next step end
        self._logs_every_step = False
        self._sees_every_norm = False  # then the gradients need no check between logs

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Start a fresh monitor and record the clipping threshold and hyper-parameters."""
        self.monitor.close()
        self.monitor = self._new_monitor()
        self.grad_norm_schedule = self._grad_norm_schedule()
        self._monitors = state.is_world_process_zero
        monitor = self.monitor
        intervenes = monitor.stop_on_divergence is not None or monitor.checkpoint_before_spike
        self._shares_decisions = intervenes and args.world_size > 1
        self._held = (False, False)
        self._logs_every_step = args.logging_strategy == "steps" and args.logging_steps == 1
        self._sees_every_norm = False  # the Trainer logs the norm at every step
        if self._monitors and state.log_history:  # resumed: the logs before the checkpoint
            self._restore_history(state.log_history)
        values = {name: getattr(args, name, None) for name in _HPARAMS}
        self.monitor.hparams = {
            k: v for k, v in values.items() if isinstance(v, (int, float)) and v is not None
        }

    def _restore_history(self, log_history: list[dict[str, Any]]) -> None:
        """Put the metrics the Trainer logged before a resume into the monitor's history.

        They go straight into the history (the online tests start afresh), so the full
        analyses see the whole run.
        """
        history = self.monitor.history
        for entry in log_history:
            step = _number(entry.get("step"))
            if step is None:
                continue
            for name, value in entry.items():
                target = _LOGGED.get(name) or (name if _is_evaluation(name, value) else None)
                number = _number(value)
                if target is not None and number is not None:
                    history.append(target, step, number)
            self.monitor.last_step = max(self.monitor.last_step, int(step))

    def on_pre_optimizer_step(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Check the gradients for NaN/Inf (on the gradient-norm schedule) between two logs.

        Not when the Trainer logs the gradient norm at every step (a log at every step,
        and a ``grad_norm`` in the last one): each step's norm is then checked at its log.
        """
        model = kwargs.get("model")
        if not self._monitors or self._sees_every_norm or model is None:
            return
        if not self.grad_norm_schedule.due():
            return
        norm = self.grad_norm_schedule.compute(lambda: total_grad_norm(model.parameters()))
        if norm is not None and not math.isfinite(norm):
            actions = self.monitor.observe_step(state.global_step + 1, grad_norm=norm)
            self._apply(state, control, actions)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Check the logged loss and gradient norm (evaluations come by `on_evaluate`)."""
        if not self._monitors or not logs:
            return
        loss, norm = logs.get("loss"), logs.get("grad_norm")
        if loss is None and norm is None:
            return
        self._sees_every_norm = self._logs_every_step and norm is not None
        actions = self.monitor.observe_step(
            state.global_step,
            loss=_number(loss),
            grad_norm=_number(norm),
            learning_rate=_number(logs.get("learning_rate")),
        )
        if actions.stop or actions.checkpoint or actions.probabilities:
            self._apply(state, control, actions)

    def on_evaluate(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        metrics: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Record the validation losses and metrics of an evaluation (``eval_*``)."""
        if not self._monitors or not metrics:
            return
        evaluated = {
            name: float(value) for name, value in metrics.items() if _is_evaluation(name, value)
        }
        if evaluated:
            actions = self.monitor.observe_validation(state.global_step, evaluated)
            self._apply(state, control, actions)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Run the final analysis and write it into ``args.output_dir`` (process zero)."""
        if not self._monitors:
            self.monitor.close()
            return
        self.monitor.finish(args.output_dir)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Share the held stop and save decisions with every process (a collective)."""
        if not self._shares_decisions:
            return
        stop, save = _shared_decisions(args, self._held)
        self._held = (False, False)
        control.should_training_stop |= stop
        control.should_save |= save

    def _apply(self, state: TrainerState, control: TrainerControl, actions: MonitorActions) -> None:
        if actions.probabilities and self.config.log_probabilities:
            record = {f"dynamics/p_{kind}": p for kind, p in actions.probabilities}
            history = state.log_history
            if history and history[-1].get("step") == state.global_step:
                history[-1].update(record)
            else:
                history.append({**record, "step": state.global_step})
        if self._shares_decisions:  # every process acts on them at the next step end
            stop, save = self._held
            self._held = (stop or actions.stop, save or actions.checkpoint)
            return
        if actions.checkpoint:
            control.should_save = True
        if actions.stop:
            control.should_training_stop = True


def _shared_decisions(args: TrainingArguments, held: tuple[bool, bool]) -> tuple[bool, bool]:
    """Stop and save when any process holds them (``all_reduce`` with max on its device)."""
    import torch
    import torch.distributed as dist

    flags = torch.tensor([int(held[0]), int(held[1])], device=args.device)
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    stop, save = flags.tolist()
    return bool(stop), bool(save)


def _is_evaluation(name: str, value: Any) -> bool:
    """Whether a logged entry is a numeric validation loss or metric (``eval_*``)."""
    return (
        name.startswith("eval_")
        and _number(value) is not None
        and infer_role(name)[0] in ("val_loss", "val_metric")
    )


def _number(value: Any) -> float | None:
    """Return the value as a float, or None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
