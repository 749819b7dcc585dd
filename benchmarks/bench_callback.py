"""Overhead of LightningMonitor on a small MLP trained on scikit-learn digits (CPU).

For each setting, the same seeded training runs with and without the monitor, one right
after the other (a pair; the order alternates, so a steady drift of the machine's speed
cancels), many times; the training loop is timed from ``on_train_start``
to ``on_train_end`` (wall and process CPU time), so the one-off final analysis in
``on_fit_end`` is reported apart. The figures are the median over pairs of the ratio
within each pair, with the interquartile range: on a shared virtual machine the speed
drifts by several percent between runs seconds apart, which pairing cancels. Also
reported: the time spent inside the monitor's hooks (a direct measure that does not
depend on that noise), how many full analyses came back, and an empty Lightning
callback: the cost of Lightning calling a callback's hooks at every step, which no
Lightning callback can go below.

A second, finer measure interleaves within one long run: at every step the monitor is put
into or taken out of ``trainer.callbacks`` (in random order within each pair of steps) and
every step is timed, so the drift of the machine, slow next to a 2 ms step, cancels. The
figure is the mean step time with the monitor over the mean without, with a bootstrap
interval over step pairs. Its zero is checked with a callback whose hooks are all unset
(Lightning calls none of them); a callback with one no-op per-step hook shows the least any
Lightning callback costs, and one that only appends each step's loss tensor to a list the
least a monitor that keeps every loss costs. The monitor sees every second step, so
whatever it schedules by wall time or by global step would fall on half as many of its
steps: its blocks (about a second each), the gradient norm (a share of the step time) and the
full analyses (every 500 global steps). Its settings there are scaled so that it keeps the
schedule of a plain run in the steps it sees (`interleaved_config`: blocks of 2 s, the norm's
share halved, an analysis every 1000 global steps), which the printout checks against a
plain run. The interleaving cannot charge the monitor for a background analysis worker
slowing the training process, since the worker keeps running during the steps without the
monitor; the paired runs above do.

Prints figures; not a test.

Usage: python benchmarks/bench_callback.py [--steps N] [--pairs N] [--interleaved-steps N]
[--repeats N] [--settings zero,noop,...] [--wide]
(0 pairs or 0 interleaved steps skips that part; ``--repeats`` interleaved runs per
setting; ``--wide``: a 64-256-256-10 MLP on batches of 128, about twice the step time of
the default 64-64-10 MLP on batches of 32.) ``--help`` lists the settings.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass, replace
from typing import Any

import lightning.pytorch as pl
import torch
from sklearn.datasets import load_digits

from dynamics_stats.callbacks import LightningMonitor, MonitorConfig
from dynamics_stats.callbacks.lightning import _lightning_skips_unset_hooks

HOOKS = ("on_before_optimizer_step", "on_train_batch_end")
TAP = "optimizer step post-hook"
STEADY_FROM = 1000
INTERLEAVED_ALL = "zero,noop,empty,appender,reader,default,checks,every_step"


@dataclass(frozen=True)
class ModelSize:
    """Hidden layer widths of the MLP and the batch size."""

    hidden: tuple[int, ...] = (64,)
    batch_size: int = 32


SMALL = ModelSize()
WIDE = ModelSize(hidden=(256, 256), batch_size=128)
SIZE = SMALL  # the model every run trains (set from the command line)


class DigitsMLP(pl.LightningModule):
    def __init__(self, hidden: tuple[int, ...] = (64,)) -> None:
        super().__init__()
        widths = (64, *hidden)
        layers: list[torch.nn.Module] = []
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        self.net = torch.nn.Sequential(*layers, torch.nn.Linear(widths[-1], 10))

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.05)


class LoopTimer(pl.Callback):
    """Wall and CPU time of the training loop only."""

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.start = (time.perf_counter(), time.process_time())

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.wall = time.perf_counter() - self.start[0]
        self.cpu = time.process_time() - self.start[1]


class EmptyCallback(pl.Callback):
    """A callback with no code: what Lightning's per-step hook dispatch costs by itself."""


class LossReader(pl.Callback):
    """Reads the loss and the step at every step, nothing else: the least a monitor does."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.values: list[tuple[int, float]] = []

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, *args: Any
    ) -> None:
        start = time.perf_counter()
        self.values.append((trainer.global_step, float(outputs["loss"])))
        self.calls.append(time.perf_counter() - start)


class TimedMonitor(LightningMonitor):
    """LightningMonitor that adds up the time spent in its per-step hooks."""

    hook_seconds = 0.0
    final_seconds = 0.0

    def __init__(self, config: MonitorConfig | None = None) -> None:
        super().__init__(config)
        self.calls: dict[str, list[tuple[int, float]]] = {name: [] for name in HOOKS}
        self.calls[TAP] = []
        # the timing wrappers only delegate: let the norm hook be unset between norm steps,
        # and the free steps go through the optimizer step post-hook, as for LightningMonitor
        self._toggles_norm_hook = self._may_tap = _lightning_skips_unset_hooks()

    def _after_optimizer_step(self, optimizer: Any, args: Any, kwargs: dict[str, Any]) -> None:
        start = time.perf_counter()
        super()._after_optimizer_step(optimizer, args, kwargs)
        elapsed = time.perf_counter() - start
        self.hook_seconds += elapsed
        self.calls[TAP].append((self._step_tracker.completed + 1, elapsed))

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        start = time.perf_counter()
        super().on_fit_end(trainer, pl_module)
        self.final_seconds = time.perf_counter() - start


def _timed(name: str) -> Any:
    hook = getattr(LightningMonitor, name)

    def wrapper(self: TimedMonitor, trainer: pl.Trainer, *args: Any) -> Any:
        start = time.perf_counter()
        out = hook(self, trainer, *args)
        elapsed = time.perf_counter() - start
        self.hook_seconds += elapsed
        self.calls[name].append((trainer.global_step, elapsed))
        return out

    return wrapper


for _name in HOOKS:
    setattr(TimedMonitor, _name, _timed(_name))


class NullCallback(pl.Callback):
    """A callback whose hooks are all unset: Lightning calls none of them (a zero check)."""

    def __init__(self, keep: tuple[str, ...] = ()) -> None:
        for name in dir(pl.Callback):
            if name.startswith("on_") and name not in keep:
                setattr(self, name, None)


class BatchEndNoOp(NullCallback):
    """One per-step hook that does nothing: what Lightning's dispatch of a hook costs."""

    def __init__(self) -> None:
        super().__init__(keep=("on_train_batch_end",))


class LossAppender(NullCallback):
    """Keeps every step's loss tensor unread in a list emptied every 512 steps, nothing else.

    The least a monitor that sees every loss does through a Lightning hook.
    """

    def __init__(self) -> None:
        super().__init__(keep=("on_train_batch_end",))
        self.losses: list[tuple[int, Any]] = []

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, *args: Any
    ) -> None:
        self.losses.append((trainer.global_step, outputs["loss"]))
        if len(self.losses) == 512:
            self.losses.clear()


class Interleaver(pl.Callback):
    """Puts a callback into ``trainer.callbacks`` or takes it out every ``segment`` steps.

    The callback is present for fit and train start (its set-up) and again for fit end;
    within each pair of segments the order (with, without) is drawn at random. Records the
    wall time of every step (one training batch start to the next) with its segment.
    """

    def __init__(self, callback: pl.Callback, segment: int = 1, seed: int = 0) -> None:
        self.callback = callback
        self.segment = segment
        self.rng = random.Random(seed)
        self.times: list[tuple[int, bool, float]] = []  # (segment index, with it, seconds)
        self._last: float | None = None
        self._segment = 0
        self._with = True
        self._order: tuple[bool, bool] = (True, False)
        self._paused_hook: tuple[Any, Any] | None = None

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        now = time.perf_counter()
        index = trainer.global_step // self.segment
        if self._last is not None:
            self.times.append((self._segment, self._with, now - self._last))
        if trainer.global_step % self.segment == 0:
            if index % 2 == 0:
                self._order = (True, False) if self.rng.random() < 0.5 else (False, True)
            self._set(trainer, self._order[index % 2])
        self._segment = index
        self._last = time.perf_counter()  # the switch itself is not timed

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._set(trainer, True)  # the monitor's final analysis runs as usual

    def _set(self, trainer: pl.Trainer, present: bool) -> None:
        self._with = present
        if present and self.callback not in trainer.callbacks:
            trainer.callbacks.append(self.callback)
        elif not present and self.callback in trainer.callbacks:
            trainer.callbacks.remove(self.callback)
        self._set_step_hook(present)

    def _set_step_hook(self, present: bool) -> None:
        """Take a monitor's optimizer step post-hook out with the monitor, and back in.

        The hook is registered on the optimizer, not in ``trainer.callbacks``: left in, it
        would read the losses of the steps without the monitor (and charge them there).
        """
        tap = getattr(self.callback, "_tap", None)
        hooks = None if tap is None else tap.hooks_dict_ref()
        if tap is None or hooks is None:
            return
        if not present and tap.id in hooks:
            self._paused_hook = (tap, hooks.pop(tap.id))
        elif present and self._paused_hook is not None:
            paused_tap, hook = self._paused_hook
            if paused_tap is tap:
                hooks[tap.id] = hook
            self._paused_hook = None


def interleaved(n_steps: int, callback: pl.Callback) -> tuple[float, float, float]:
    """Per-step cost of ``callback`` from one interleaved run.

    Returns
    -------
    (float, float, float)
        Mean step time with over without it, minus 1, in percent, and a 90% bootstrap
        interval over segment pairs (pairs of steps by default).
    """
    torch.manual_seed(0)
    switch = Interleaver(callback)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            max_steps=n_steps,
            default_root_dir=tmp,
            logger=False,
            callbacks=[switch, callback],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(DigitsMLP(SIZE.hidden), loader())
    change, low, high, _ = step_pair_change(switch.times, first_pair=1)
    return change, low, high


def step_pair_change(
    times: list[tuple[int, bool, float]], first_pair: int
) -> tuple[float, float, float, float]:
    """Mean step time with over without, from ``(step or segment, with it, seconds)`` rows.

    Rows are paired by ``index // 2`` (pairs before ``first_pair`` hold the warm-up and are
    left out); the interval is a 90% bootstrap over the pairs.

    Returns
    -------
    (float, float, float, float)
        The change in percent, the interval's two ends, and the mean step time without
        (seconds).
    """
    pairs: dict[int, list[list[float]]] = {}
    for index, present, seconds in times:
        if index // 2 >= first_pair:
            pairs.setdefault(index // 2, [[], []])[present].append(seconds)
    sums = [(sum(w), len(w), sum(wo), len(wo)) for wo, w in pairs.values() if w and wo]

    def change(rows: list[tuple[float, int, float, int]]) -> float:
        with_mean = sum(r[0] for r in rows) / sum(r[1] for r in rows)
        without_mean = sum(r[2] for r in rows) / sum(r[3] for r in rows)
        return 100 * (with_mean / without_mean - 1)

    rng = random.Random(1)
    draws = sorted(change(rng.choices(sums, k=len(sums))) for _ in range(2000))
    base = sum(r[2] for r in sums) / sum(r[3] for r in sums)
    return change(sums), draws[100], draws[1899], base


def interleaved_config(config: MonitorConfig) -> MonitorConfig:
    """``config`` for a monitor that sees every second step, keeping its schedule in them.

    Blocks last twice as long in wall time, the gradient norm may take half the share of
    the (doubled) time between the steps it sees, and analyses come twice as many global
    steps apart: per step seen, the same block sizes, norm interval and analysis interval as
    ``config`` in a plain run.
    """
    return replace(
        config,
        max_check_delay_seconds=2 * config.max_check_delay_seconds,
        grad_norm_cost_frac=config.grad_norm_cost_frac / 2,
        analysis_every_n_steps=min(2 * config.analysis_every_n_steps, 10**9),
    )


def schedule_of(monitor: LightningMonitor, n_seen: int) -> str:
    """The monitor's schedule in the steps it saw: block size, norm interval, analyses."""
    analyses = monitor.monitor.n_analyses - 1  # without the final one
    return (
        f"blocks of {monitor.monitor._room_given} steps seen, norm every "
        f"{monitor.grad_norm_schedule.interval} steps seen, {analyses} analyses in "
        f"{n_seen} steps seen"
    )


def loader() -> torch.utils.data.DataLoader:
    x, y = load_digits(return_X_y=True)
    data = torch.utils.data.TensorDataset(
        torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    )
    return torch.utils.data.DataLoader(
        data, batch_size=SIZE.batch_size, shuffle=True, generator=torch.Generator().manual_seed(0)
    )


def run(n_steps: int, config: MonitorConfig | str | None) -> dict[str, float]:
    torch.manual_seed(0)
    timer = LoopTimer()
    empty = [EmptyCallback()] if config == "empty" else []
    reader = LossReader() if config == "reader" else None
    monitor = TimedMonitor(config) if isinstance(config, MonitorConfig) else None
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            max_steps=n_steps,
            default_root_dir=tmp,
            logger=False,
            callbacks=[timer, *empty] + [c for c in (reader, monitor) if c is not None],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(DigitsMLP(SIZE.hidden), loader())
    out = {"wall": timer.wall, "cpu": timer.cpu}
    if reader is not None:
        out["reader_median"] = statistics.median(reader.calls[STEADY_FROM:])
    if monitor is not None:
        out["hooks"] = monitor.hook_seconds
        out["final"] = monitor.final_seconds
        out["alerts"] = len(monitor.alerts)
        out["analyses"] = monitor.monitor.n_analyses - 1  # without the final one
        out["norm_interval"] = monitor.grad_norm_schedule.interval
        out["block_steps"] = monitor.monitor._room_given
        # typical per-step cost: the median call of the hook that runs at every step (the
        # optimizer step post-hook when the free steps go through it)
        every_step = monitor.calls[TAP] or monitor.calls["on_train_batch_end"]
        out["median_step"] = statistics.median(t for _, t in every_step)
        # steady state: mean per step after the first 1000 steps (worker started, warmed up);
        # the norm hook runs only at the steps that compute the norm
        late = sum(t for calls in monitor.calls.values() for step, t in calls if step > STEADY_FROM)
        out["steady_mean"] = late / (n_steps - STEADY_FROM)
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000, help="steps per paired run")
    parser.add_argument("--pairs", type=int, default=12, help="paired runs per setting")
    parser.add_argument("--interleaved-steps", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=1, help="interleaved runs per setting")
    parser.add_argument(
        "--settings", default=INTERLEAVED_ALL, help=f"interleaved settings ({INTERLEAVED_ALL})"
    )
    parser.add_argument("--wide", action="store_true", help="the 64-256-256-10 MLP, batch 128")
    return parser.parse_args()


def main() -> None:
    global SIZE
    args = parse_args()
    SIZE = WIDE if args.wide else SMALL
    n_steps, pairs, interleaved_steps = args.steps, args.pairs, args.interleaved_steps
    repeats, only = args.repeats, args.settings
    torch.set_num_threads(1)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    settings: dict[str, tuple[MonitorConfig | str, int]] = {  # setting, share of the pairs
        "empty Lightning callback (floor)": ("empty", 1),
        "loss-and-step reader (floor of any per-step monitor)": ("reader", 1),
        "default: background analysis every 500": (MonitorConfig(), 1),
        "per-step checks only (no full analysis)": (
            MonitorConfig(analysis_every_n_steps=10**9),
            1,
        ),
        "per-step checks, loss read at every step (NaN found at its step)": (
            MonitorConfig(analysis_every_n_steps=10**9, check_loss_every_step=True),
            1,
        ),
        "inline analysis every 500, 1% time budget": (
            MonitorConfig(analysis_in_background=False),
            3,
        ),
        "inline analysis every 500, no budget": (
            MonitorConfig(analysis_in_background=False, max_analysis_time_frac=None),
            3,
        ),
        "worst: inline analysis every 50, no budget": (
            MonitorConfig(
                analysis_in_background=False,
                analysis_every_n_steps=50,
                max_analysis_time_frac=None,
            ),
            5,
        ),
    }
    run(200, None)  # warm-up: imports, first-call costs
    if pairs > 0:
        print_paired(n_steps, pairs, settings)
    if interleaved_steps > 0:
        print_interleaved(interleaved_steps, repeats, only)


def print_paired(
    n_steps: int, pairs: int, settings: dict[str, tuple[MonitorConfig | str, int]]
) -> None:
    """Run and print the paired runs (with and without the callback, one after the other)."""
    results: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {
        name: [] for name in settings
    }
    for index in range(pairs):
        for name, (config, thinning) in settings.items():
            if index % thinning == 0:  # costly settings: fewer pairs
                results[name].append(_pair(n_steps, config, monitor_first=index % 2 == 1))
    base_wall = statistics.median(b["wall"] for rows in results.values() for b, _ in rows)
    print(f"{n_steps} steps per run, torch threads 1; median over pairs [interquartile range]")
    print(f"without monitor: loop {base_wall:.2f} s wall ({1e3 * base_wall / n_steps:.3f} ms/step)")
    for name, rows in results.items():
        print(f"{name} ({len(rows)} pairs):")
        print("  " + _ratio_line(rows))
        if "hooks" in rows[0][1]:
            print("  " + _hook_line(rows, n_steps))
        if "reader_median" in rows[0][1]:
            median_us = 1e6 * statistics.median(r["reader_median"] for _, r in rows)
            print(f"  reading the loss and the step: {median_us:.1f} us/step (median)")


def _pair(
    n_steps: int, config: MonitorConfig | str, *, monitor_first: bool
) -> tuple[dict[str, float], dict[str, float]]:
    """One run without and one with the callback, in the given order: (without, with)."""
    if monitor_first:
        with_it = run(n_steps, config)
        return run(n_steps, None), with_it
    without = run(n_steps, None)
    return without, run(n_steps, config)


def print_interleaved(interleaved_steps: int, repeats: int, only: str) -> None:
    """Run and print the step-by-step interleaved measures (settings whose key is in ``only``)."""
    print(f"interleaved step by step within runs of {interleaved_steps} steps:")
    checks_only = MonitorConfig(analysis_every_n_steps=10**9)
    settings: dict[str, tuple[str, Any]] = {
        "zero": ("all hooks unset (zero check)", NullCallback),
        "noop": ("one no-op per-step hook (floor of a Lightning callback)", BatchEndNoOp),
        "empty": ("empty Lightning callback (every hook a no-op)", EmptyCallback),
        "appender": (
            "loss-tensor appender (floor of a monitor that keeps every loss)",
            LossAppender,
        ),
        "reader": ("loss-and-step reader (reads each loss as a number)", LossReader),
        "default": (
            "default: background analysis every 500",
            lambda: LightningMonitor(interleaved_config(MonitorConfig())),
        ),
        "checks": (
            "per-step checks only",
            lambda: LightningMonitor(interleaved_config(checks_only)),
        ),
        "every_step": (
            "per-step checks, loss read at every step",
            lambda: LightningMonitor(
                interleaved_config(replace(checks_only, check_loss_every_step=True))
            ),
        ),
    }
    for key, (name, make) in settings.items():
        if key not in only.split(","):
            continue
        for _ in range(repeats):
            callback = make()
            change, low, high = interleaved(interleaved_steps, callback)
            line = f"  {name}: mean step time {change:+.2f}% [90% interval {low:+.2f}, {high:+.2f}]"
            if isinstance(callback, LightningMonitor):
                line += f"; {schedule_of(callback, interleaved_steps // 2)}"
            print(line, flush=True)


def _ratio_line(rows: list[tuple[dict[str, float], dict[str, float]]]) -> str:
    parts = []
    for key, label in (("wall", "wall"), ("cpu", "main-process CPU")):
        changes = [100 * (r[key] / b[key] - 1) for b, r in rows]
        low, middle, high = statistics.quantiles(changes, n=4) if len(changes) > 1 else changes * 3
        parts.append(f"{label} {statistics.median(changes):+.2f}% [{low:+.2f}, {high:+.2f}]")
    return ", ".join(parts)


def _hook_line(rows: list[tuple[dict[str, float], dict[str, float]]], n_steps: int) -> str:
    hooks_us = 1e6 * statistics.median(r["hooks"] for _, r in rows) / n_steps
    share = statistics.median(100 * r["hooks"] / b["wall"] for b, r in rows)
    steady_us = 1e6 * statistics.median(r["median_step"] for _, r in rows)
    late_us = 1e6 * statistics.median(r["steady_mean"] for _, r in rows)
    late_share = statistics.median(100 * r["steady_mean"] * n_steps / b["wall"] for b, r in rows)
    analyses = statistics.median(r["analyses"] for _, r in rows)
    interval = statistics.median(r["norm_interval"] for _, r in rows)
    block = statistics.median(r["block_steps"] for _, r in rows)
    final = statistics.median(r["final"] for _, r in rows)
    return (
        f"time in the monitor's hooks {hooks_us:.1f} us/step on average = {share:.2f}% of the "
        f"paired step without monitor ({steady_us:.1f} us typical; after step {STEADY_FROM} "
        f"{late_us:.1f} us/step on average = {late_share:.2f}%); {analyses:.0f} full "
        f"analyses came back during training; blocks of {block:.0f} steps; grad norm every "
        f"{interval:.0f} steps; final "
        f"analysis {final:.2f} s"
    )


if __name__ == "__main__":
    main()
