"""`LightningMonitor`: a Lightning callback that watches training as it runs."""

from __future__ import annotations

import functools
import inspect
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np

from dynamics_stats.callbacks._closure_tap import can_tap_closure, closure_loss
from dynamics_stats.callbacks._grad_norm import total_grad_norm
from dynamics_stats.callbacks._host import MonitorHost
from dynamics_stats.callbacks.alerts import AlertHandler
from dynamics_stats.callbacks.config import MonitorConfig
from dynamics_stats.callbacks.monitor import MonitorActions
from dynamics_stats.core.types import FloatArray
from dynamics_stats.validate.roles import infer_role

__all__ = ["LightningMonitor"]

_CHECKPOINT_DIR = "dynamics_stats_checkpoints"
# the hooks that do the monitoring; on a process other than global rank zero they are unset
_MONITOR_HOOKS = ("on_before_optimizer_step", "on_train_batch_end", "on_validation_end")
# the hooks where every process joins the collective that shares rank zero's decisions
_DECISION_HOOKS = ("on_train_batch_end", "on_validation_end")
# per-batch hooks the monitor does not use; Lightning calls every hook of every callback at
# every batch (with a profiler context each), so leaving them unset saves time per step
_UNUSED_BATCH_HOOKS = (
    "on_train_batch_start",
    "on_before_backward",
    "on_after_backward",
    "on_before_zero_grad",
    "on_validation_batch_start",
    "on_validation_batch_end",
)


@functools.cache
def _lightning_skips_unset_hooks() -> bool:
    """Whether the installed Lightning skips a callback hook that is not callable."""
    try:
        from lightning.pytorch.trainer import call

        return "if callable(fn):" in inspect.getsource(call._call_callback_hooks)
    except (ImportError, AttributeError, OSError, TypeError):
        return False


class LightningMonitor(MonitorHost, pl.Callback):
    """Watch a Lightning run: online checks every step, the full analysis every N steps.

    Reads the training loss (``training_step`` output), the pre-clip total gradient norm
    (computed in ``on_before_optimizer_step`` on the schedule of `GradNormSchedule`, so
    it costs at most ``grad_norm_cost_frac`` of the training time), the learning rate
    (first param group, read at the steps where the norm is computed), validation metrics
    (logged metrics at validation end) and ``gradient_clip_val``. Nothing intervenes
    unless asked.

    The loss tensors are buffered and read once per block of steps (about every second),
    which avoids a device synchronisation per step; a NaN/Inf loss is then reported at
    the next block check, with its own step (a due full analysis also waits for it). At a
    step where nothing else is due (no gradient norm, no block check) the hook only appends
    the step and the loss tensor to the monitor's buffer. In automatic optimization (one
    optimizer, no gradient accumulation) a torch optimizer step post-hook does that
    instead, at the gradient-norm steps too (the norm and the LR buffered with the block),
    and Lightning does not call ``on_train_batch_end`` between block checks and
    validations (`dynamics_stats.callbacks._closure_tap`). With ``stop_on_divergence`` or
    ``checkpoint_before_spike`` (or ``MonitorConfig(check_loss_every_step=True)``) the
    loss is read at every step, so the intervention comes at the step.

    The history goes into Lightning's checkpoints (`state_dict`), so a run resumed with
    ``ckpt_path`` is analysed as a whole, not from the resume on.

    In distributed training only the process of global rank zero monitors (one analysis
    worker, one set of alerts and reports); Lightning does not call the monitor's per-step
    hooks on the other processes. With an intervention turned on, every process joins one
    collective per step (``strategy.reduce_boolean_decision``) that carries rank zero's
    decision, so all of them stop, or save the checkpoint, at the same step.

    Parameters
    ----------
    config : MonitorConfig or None, default=None
        Settings (analysis period, thresholds, reports); defaults when None.
    on_alert : callable or None, default=None
        Called with every `Alert` (besides logging and warnings).
    stop_on_divergence : float or None, default=None
        Stop training (``trainer.should_stop``) when P(divergence) reaches this value or
        the loss or gradient norm is NaN/Inf. None: never stop.
    checkpoint_before_spike : bool, default=False
        Save a checkpoint (``<log_dir>/dynamics_stats_checkpoints/``) when a spike region
        starts.

    Examples
    --------
    >>> monitor = LightningMonitor()  # doctest: +SKIP
    >>> trainer = lightning.pytorch.Trainer(callbacks=[monitor])  # doctest: +SKIP
    """

    def __init__(
        self,
        config: MonitorConfig | None = None,
        *,
        on_alert: AlertHandler | None = None,
        stop_on_divergence: float | None = None,
        checkpoint_before_spike: bool = False,
    ) -> None:
        super().__init__()
        self._init_host(
            config,
            on_alert=on_alert,
            stop_on_divergence=stop_on_divergence,
            checkpoint_before_spike=checkpoint_before_spike,
        )
        self._grad_norm: float | None = None
        self._logged_grad_key: str | None = None
        self._parameters: list[Any] = []  # trainable parameters, listed once at fit start
        self._param_group: dict[str, Any] | None = None  # of the first optimizer
        self.grad_norm_schedule = self._grad_norm_schedule()
        self._norm_due = True  # compute the norm at the next optimizer step
        self._step_tracker: Any = None  # Lightning's optimizer-step counter, read directly
        # coming batches that only buffer their loss (`TrainingMonitor.loss_buffer`)
        self._n_free = self._n_granted = 0
        self._free_steps: list[float] = []
        self._free_losses: list[Any] = []
        # free steps read by an optimizer step post-hook, with on_train_batch_end unset
        self._may_tap = _lightning_skips_unset_hooks() and not _overrides(
            type(self), "on_train_batch_end"
        )
        self._tap: Any = None  # the post-hook's handle while it is registered
        self._tap_verified = False  # it read the loss Lightning reported, at a checked step
        self._tapping = False  # the current free steps go through the post-hook
        self._stretch_tapped = False  # the free steps granted last went through it
        # of the post-hook's steps: how many the norm schedule would not pick (asked at the
        # grant), and how many of them have passed without asking it
        self._norm_wait = self._norm_unasked = 0
        self._tapped: tuple[int, Any] | None = None  # (step, loss) it read at a checked step
        self._batch_end_done = False  # the post-hook recorded this batch: nothing to do
        self.checkpoints: list[Path] = []
        self._unset_unused_hooks()
        # between the steps that compute the norm, Lightning need not call the hook at all
        self._toggles_norm_hook = _lightning_skips_unset_hooks() and not _overrides(
            type(self), "on_before_optimizer_step"
        )
        self._reads_loss_every_step = self.config.check_loss_every_step
        if self._reads_loss_every_step is None:  # at once when an intervention is on
            self._reads_loss_every_step = stop_on_divergence is not None or checkpoint_before_spike
        self.report_dir: Path | None = None
        self._syncs_decisions = False  # share rank zero's stop/checkpoint decisions
        self._saved_state: dict[str, Any] | None = None  # from a checkpoint, for the next fit
        self._fitting = False

    def _unset_unused_hooks(self) -> None:
        """Set the unused per-batch hooks to None, which Lightning then does not call.

        Only when the installed Lightning checks ``callable`` before calling a hook (it has
        since 1.x), and only hooks a subclass did not override.
        """
        if not _lightning_skips_unset_hooks():
            return
        for name in _UNUSED_BATCH_HOOKS:
            if not _overrides(type(self), name):
                setattr(self, name, None)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start a fresh monitor and record the clipping threshold and hyper-parameters.

        On a process other than global rank zero, only follow rank zero's decisions.
        """
        self.monitor.close()
        self.monitor = self._new_monitor()
        monitor = self.monitor
        intervenes = monitor.stop_on_divergence is not None or monitor.checkpoint_before_spike
        self._syncs_decisions = intervenes and trainer.world_size > 1
        self.checkpoints = []
        self._set_role(monitors=trainer.is_global_zero)
        self._fitting = True
        if not trainer.is_global_zero:
            self._saved_state = None  # rank zero's history: only rank zero monitors
            return
        self._restore_saved_state()
        self._n_free = self._n_granted = 0
        self._logged_grad_key = None
        self._parameters = [p for p in pl_module.parameters() if p.requires_grad]
        self.grad_norm_schedule = self._grad_norm_schedule()
        self._schedule_norm(self.grad_norm_schedule.due())  # for the first step
        hparams = {
            k: v
            for k, v in dict(pl_module.hparams).items()
            if isinstance(v, (int, float, str, bool)) or v is None
        }
        if trainer.gradient_clip_val:
            hparams["gradient_clip_val"] = float(trainer.gradient_clip_val)
        self.monitor.hparams = hparams

    def state_dict(self) -> dict[str, Any]:
        """Return the monitor's history for Lightning's checkpoints (see `load_state_dict`)."""
        self._settle_free_steps()
        return self.monitor.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue the history of the run a checkpoint was saved from (``ckpt_path``).

        The full analyses of the resumed run then see the whole run, not only the steps
        after the resume. A state this monitor cannot read is skipped with a warning.
        """
        self._saved_state = dict(state_dict)
        if self._fitting:  # restored after the fit started (some strategies do that)
            self._restore_saved_state()

    def _restore_saved_state(self) -> None:
        state, self._saved_state = self._saved_state, None
        if state is None:
            return
        try:
            self.monitor.load_state_dict(state)
        except (KeyError, TypeError, ValueError) as err:
            warnings.warn(
                f"dynamics_stats: the monitor's state in the checkpoint was not restored ({err})",
                stacklevel=2,
            )

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Keep the first optimizer's first parameter group and the optimizer-step counter."""
        optimizers = trainer.optimizers
        self._param_group = optimizers[0].param_groups[0] if optimizers else None
        self._step_tracker = _optimizer_step_tracker(trainer)
        self._attach_tap(trainer)

    def _attach_tap(self, trainer: pl.Trainer) -> None:
        """Register the optimizer step post-hook that reads the free steps' losses.

        Only on global rank zero, when the losses are buffered (no read at every step, no
        shared decisions), Lightning's step counter is read and each optimizer step is one
        batch (`can_tap_closure`). It is used once it has read what Lightning reports.
        """
        self._detach_tap()
        if (
            self._may_tap
            and not (self._reads_loss_every_step or self._syncs_decisions)
            and trainer.is_global_zero
            and self._step_tracker is not None
            and can_tap_closure(trainer)
        ):
            self._tap = trainer.optimizers[0].register_step_post_hook(self._after_optimizer_step)

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any
    ) -> None:
        """Compute the total gradient norm before clipping, at the steps the schedule picks.

        The schedule times this hook from its entry, and the post-hook charges it the time
        it spends buffering the norm, so the norm's budget covers its bookkeeping too.
        """
        started = time.perf_counter()
        if self._norm_due and self._logged_grad_key is None:
            parameters = self._parameters or list(pl_module.parameters())
            self._grad_norm = self.grad_norm_schedule.compute(
                lambda: total_grad_norm(parameters), started
            )
        self._schedule_norm(False)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        """Run the per-step checks on the loss, gradient norm and learning rate.

        At a free step (nothing due; see `_grant_free_steps`) the step from Lightning's
        counter and the loss tensor go straight into the monitor's buffer. Otherwise a step
        with a loss and no gradient norm takes the short path: the loss tensor buffered
        unread (`TrainingMonitor.buffer_loss`), or read and checked at once
        (`TrainingMonitor.observe_loss`) when ``check_loss_every_step`` asks for it.
        """
        if self._batch_end_done:  # the optimizer step post-hook recorded this batch
            self._batch_end_done = False
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if self._n_free and loss is not None:  # the per-step fast path
            self._n_free -= 1
            self._free_steps.append(self._step_tracker.completed)
            self._free_losses.append(loss)
            return
        self._settle_free_steps()
        step = self._checked_step(trainer)
        if self._tap is not None:
            self._verify_tap(step, loss)
        short = self._grad_norm is None and self._logged_grad_key is None
        if short and step > 1 and loss is not None:
            if self._reads_loss_every_step:
                actions = self.monitor.observe_loss(step, float(loss))
            else:  # the (detached) tensor is read with its block: no per-step device sync
                actions = self.monitor.buffer_loss(step, loss)
        else:
            actions = self._observe_with_grad_norm(trainer, step, loss)
        if not self._norm_due and self.grad_norm_schedule.due():
            self._schedule_norm(self._logged_grad_key is None)
        if actions.stop or actions.checkpoint or actions.probabilities or self._syncs_decisions:
            self._apply(trainer, actions)
        if step > 1:
            self._grant_free_steps()

    def _checked_step(self, trainer: pl.Trainer) -> int:
        """Return ``trainer.global_step``, and check Lightning's counter against it.

        The fast paths read the counter directly; it is checked at every step that reaches
        `on_train_batch_end`'s full path, and on a mismatch the counter (and the post-hook,
        which reads it) is dropped for the rest of the fit.
        """
        step = trainer.global_step
        if self._step_tracker is not None and self._step_tracker.completed != step:
            self._step_tracker = None  # Lightning's counters changed: use the public step
            self._detach_tap()
        return step

    def _set_role(self, *, monitors: bool) -> None:
        """Monitor (global rank zero), or only join the decisions of the monitoring process.

        A follower's monitoring hooks are unset (Lightning then does not call them), or
        replaced by `_follow_decisions` when the decisions are shared.
        """
        for name in _MONITOR_HOOKS:
            self.__dict__.pop(name, None)
        if monitors:
            return
        follow = self._follow_decisions if self._syncs_decisions else None
        for name in _MONITOR_HOOKS:
            setattr(self, name, follow if name in _DECISION_HOOKS else None)

    def _follow_decisions(self, trainer: pl.Trainer, *args: Any) -> None:
        """On a process that does not monitor: apply the decision rank zero shares."""
        if not trainer.sanity_checking:
            self._apply(trainer, MonitorActions())

    def _grant_free_steps(self) -> None:
        """Let the coming batches only buffer their loss, while nothing else is due.

        That is until the monitor's next block check, and only when the step is read from
        Lightning's counter, the loss is not read every step and no decision is shared with
        other processes (that takes a collective every step). Through the optimizer step
        post-hook the free steps include the gradient-norm steps (`_after_optimizer_step`);
        through ``on_train_batch_end`` they end before the next one.
        """
        if (
            self._reads_loss_every_step
            or self._syncs_decisions
            or self._logged_grad_key is not None
            or self._step_tracker is None
            or (self._norm_due and not self._tap_verified)
        ):
            return
        self._free_steps, self._free_losses, n_free = self.monitor.loss_buffer()
        if not self._tap_verified:  # free steps end before the next norm step
            n_free = min(n_free, self.grad_norm_schedule.steps_before_due())
        self._n_free = self._n_granted = n_free
        self._stretch_tapped = bool(n_free) and self._tap_verified
        if self._stretch_tapped:
            self._tapping = True
            self.on_train_batch_end = None  # type: ignore[assignment]
            self._norm_wait = self.grad_norm_schedule.steps_before_due()
            self._norm_unasked = 0

    def _settle_free_steps(self) -> None:
        """Count the free steps taken since the grant in the monitor and the norm schedule."""
        if self._tapping:
            self._stop_tapping()
        n_taken = self._n_granted - self._n_free
        if n_taken:
            self.monitor.note_buffered(n_taken)
            # the post-hook asked the schedule only at the steps it might pick
            self.grad_norm_schedule.skip(self._norm_unasked if self._stretch_tapped else n_taken)
        self._norm_unasked = 0
        self._n_free = self._n_granted = 0
        self._stretch_tapped = False

    def _after_optimizer_step(self, optimizer: Any, args: Any, kwargs: dict[str, Any]) -> None:
        """Torch optimizer step post-hook: read the step's loss from Lightning's closure.

        At a free step while tapping, the step and the loss go into the monitor's buffer
        here (Lightning does not call ``on_train_batch_end``, which is unset), with the
        gradient norm and the learning rate when the norm was computed at this step (read
        with the block, like the loss), and the norm schedule is asked about the next
        step once the steps it would not pick have passed (`_ask_norm_schedule`); at the
        last free step ``on_train_batch_end`` is set again and skips this batch. At any
        other step the pair is kept for `_verify_tap`.

        This runs at every step, so it does as little as it can: inside a training step a
        call or an attribute lookup costs microseconds, not the tens of nanoseconds it
        takes in a warm loop. Reading Lightning's layout inline instead of calling
        `closure_loss`, and counting the steps the norm schedule would not pick instead of
        asking it at each, took it from 8.0 us to 3.5 us (median, timed inside training).
        """
        try:  # Lightning's layout, read without a call: partial(wrapper, ..., Closure)
            loss = kwargs["closure"].args[-1]._result.loss
        except (KeyError, AttributeError, IndexError, TypeError):  # another layout
            loss = closure_loss(kwargs)
        step = self._step_tracker.completed + 1  # Lightning counts the step after this
        if not self._tapping or loss is None:  # no loss: on_train_batch_end handles it
            self._tapped = (step, loss)
            if self._tapping:
                self._stop_tapping()
            return
        self._n_free -= 1
        self._free_steps.append(step)
        self._free_losses.append(loss)
        if self._grad_norm is not None:
            self._buffer_norm(step, self._grad_norm)
        if not self._norm_due:  # the schedule's answer is known until `_norm_wait` runs out
            if self._norm_unasked < self._norm_wait:
                self._norm_unasked += 1
            else:
                self._ask_norm_schedule()
        if not self._n_free:
            self._stop_tapping()
            self._batch_end_done = True

    def _buffer_norm(self, step: int, grad_norm: float) -> None:
        """Buffer the norm computed at this step with the LR; charge the time to the norm."""
        started = time.perf_counter()
        lr = None if self._param_group is None else self._param_group.get("lr")
        self.monitor.buffer_norm(step, grad_norm, None if lr is None else float(lr))
        self._grad_norm = None
        self.grad_norm_schedule.charge(time.perf_counter() - started)

    def _ask_norm_schedule(self) -> None:
        """Count the post-hook's steps not asked in the norm schedule, then ask it."""
        schedule = self.grad_norm_schedule
        schedule.skip(self._norm_unasked)
        if schedule.due():
            self._schedule_norm(True)
        self._norm_wait = schedule.steps_before_due()
        self._norm_unasked = 0

    def _verify_tap(self, step: int, loss: Any) -> None:
        """Keep the post-hook only while it reads the step and loss Lightning reports."""
        tapped, self._tapped = self._tapped, None
        if tapped is not None and tapped[0] == step and tapped[1] is loss:
            self._tap_verified = True
        else:
            self._detach_tap()

    def _stop_tapping(self) -> None:
        """Let Lightning call ``on_train_batch_end`` again."""
        self._tapping = False
        self.__dict__.pop("on_train_batch_end", None)

    def _detach_tap(self) -> None:
        """Remove the optimizer step post-hook (at the end of a fit or when unverified)."""
        if self._tap is not None:
            self._tap.remove()
        self._tap = self._tapped = None
        self._tap_verified = self._batch_end_done = False

    def _observe_with_grad_norm(self, trainer: pl.Trainer, step: int, loss: Any) -> MonitorActions:
        """Run the per-step checks at a step with a gradient norm (computed or logged)."""
        if step <= 1:
            self._logged_grad_key = _grad_norm_key(trainer.callback_metrics)
        if self._logged_grad_key is not None:
            logged = trainer.callback_metrics.get(self._logged_grad_key)
            self._grad_norm = None if logged is None else float(logged)
        lr = None
        if self._grad_norm is not None and self._param_group is not None:
            lr = self._param_group.get("lr")  # read with the (sampled) gradient norm
        actions = self.monitor.observe_step(
            step,
            loss=None if loss is None else float(loss),
            grad_norm=self._grad_norm,
            learning_rate=None if lr is None else float(lr),
        )
        self._grad_norm = None
        return actions

    def _loss_to_array(self, values: list[Any]) -> FloatArray:
        """Convert a block of buffered loss tensors (or numbers) to floats.

        On an accelerator the block is stacked and copied at once (one synchronisation);
        on the CPU one ``.item()`` per value is faster than stacking.
        """
        if not getattr(values[0], "is_cpu", True):
            import torch

            try:
                stacked = torch.stack(values).cpu().double().numpy().reshape(-1)
            except (TypeError, RuntimeError):  # mixed numbers, devices or shapes
                stacked = None
            if stacked is not None and stacked.size == len(values):
                return stacked
        try:  # ``.item()`` is faster than ``float()`` on a tensor
            return np.array([value.item() for value in values], dtype=float)
        except AttributeError:  # plain numbers among them
            return np.array([float(value) for value in values], dtype=float)

    def _schedule_norm(self, due: bool) -> None:
        """Compute the gradient norm at the next optimizer step or not (and (un)set the hook)."""
        self._norm_due = due
        if self._toggles_norm_hook:
            if due:
                self.__dict__.pop("on_before_optimizer_step", None)
            else:
                self.on_before_optimizer_step = None  # type: ignore[assignment]

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Record the validation metrics Lightning collected."""
        if trainer.sanity_checking:
            return
        self._settle_free_steps()
        metrics = {
            name: float(value)
            for name, value in trainer.callback_metrics.items()
            if infer_role(name)[0] in ("val_loss", "val_metric")
        }
        actions = MonitorActions()
        if metrics:
            actions = self.monitor.observe_validation(trainer.global_step, metrics)
        if metrics or self._syncs_decisions:
            self._apply(trainer, actions)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Run the final analysis and write it next to the run's logs (global rank zero)."""
        self._set_role(monitors=True)
        self._fitting = self._syncs_decisions = False
        self._settle_free_steps()
        self._detach_tap()
        self.report_dir = _log_dir(trainer)  # a collective in distributed training
        if not trainer.is_global_zero:
            self.monitor.close()
            return
        self.monitor.finish(self.report_dir)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        """Stop the analysis worker and remove the optimizer step post-hook."""
        self._fitting = False
        self._settle_free_steps()
        self._detach_tap()
        self.monitor.close()

    def _apply(self, trainer: pl.Trainer, actions: MonitorActions) -> None:
        """Log the probabilities, save a checkpoint, stop: as ``actions`` (or rank zero) asks.

        With shared decisions every process calls this at the same points (a collective).
        """
        if self._syncs_decisions:
            actions = _shared_decisions(trainer, actions)
        if actions.probabilities and self.config.log_probabilities:
            metrics = {f"dynamics/p_{kind}": p for kind, p in actions.probabilities}
            for logger in trainer.loggers:
                logger.log_metrics(metrics, step=trainer.global_step)
        if actions.checkpoint:
            path = _log_dir(trainer) / _CHECKPOINT_DIR / f"step{trainer.global_step}.ckpt"
            trainer.save_checkpoint(path)
            self.checkpoints.append(path)
        if actions.stop:
            trainer.should_stop = True


def _shared_decisions(trainer: pl.Trainer, actions: MonitorActions) -> MonitorActions:
    """``actions`` with stop and checkpoint set when any process asks (a collective).

    Only rank zero monitors, so its decisions reach every process: one reduction per call,
    three when either is asked for.
    """
    strategy = trainer.strategy
    if not strategy.reduce_boolean_decision(actions.stop or actions.checkpoint, all=False):
        return replace(actions, stop=False, checkpoint=False)
    stop = strategy.reduce_boolean_decision(actions.stop, all=False)
    checkpoint = strategy.reduce_boolean_decision(actions.checkpoint, all=False)
    return replace(actions, stop=stop, checkpoint=checkpoint)


def _overrides(cls: type, hook: str) -> bool:
    """Whether ``cls`` defines ``hook`` itself rather than inheriting LightningMonitor's."""
    return getattr(cls, hook, None) not in (
        getattr(pl.Callback, hook, None),
        LightningMonitor.__dict__.get(hook),
    )


def _optimizer_step_tracker(trainer: pl.Trainer) -> Any:
    """Lightning's counter behind ``trainer.global_step``, or None when it cannot be found.

    ``trainer.global_step`` goes through four properties; the counter is one attribute
    (``.completed``). It is used only while it agrees with ``global_step`` (checked here
    and at every step that reaches ``on_train_batch_end``'s full path).
    """
    try:
        loop = trainer.fit_loop.epoch_loop
        if trainer.lightning_module.automatic_optimization:
            tracker = loop.automatic_optimization.optim_progress.optimizer.step.total
        else:
            tracker = loop.manual_optimization.optim_step_progress.total
        return tracker if tracker.completed == trainer.global_step else None
    except AttributeError:
        return None


def _log_dir(trainer: pl.Trainer) -> Path:
    """Return the run's log directory; every process must ask (``log_dir`` broadcasts it)."""
    return Path(trainer.log_dir or trainer.default_root_dir)


def _grad_norm_key(metrics: Any) -> str | None:
    """Name of a total gradient norm the user logs, if any."""
    return next((name for name in metrics if infer_role(name)[0] == "grad_norm"), None)
