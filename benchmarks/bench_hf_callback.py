"""Overhead of HFMonitor on a small MLP trained on scikit-learn digits by the HF Trainer (CPU).

The Trainer runs the 64-64-10 MLP of ``bench_callback.py`` (batches of 32, plain SGD,
gradient clipping at 1.0 as the Trainer does by default). The measure is the one of
``bench_callback.py``'s interleaved runs: within one long run the monitor is put into or
taken out of the Trainer's callback list at every step (in random order within each pair of
steps), every step is timed, and the figure is the mean step time with the monitor over the
mean without, with a bootstrap interval over step pairs. The monitor sees every second
step, so its settings are scaled to keep a plain run's schedule in the steps it sees
(`bench_callback.interleaved_config`). Its zero is a callback whose methods all do nothing
(the Trainer calls every method of every callback at every event).

Two logging settings: the Trainer's default (``logging_steps=500``: the monitor reads the
loss and the gradient norm at each log and checks the gradients for NaN/Inf on its
gradient-norm schedule between logs) and a log at every step (``logging_steps=1``, which
also makes the Trainer read the loss at every step).

Prints figures; not a test.

Usage: python benchmarks/bench_hf_callback.py [--steps N] [--repeats N] [--logging-steps 500,1]
"""

from __future__ import annotations

import argparse
import logging
import random
import tempfile
import time
import warnings
from typing import Any

import torch
from bench_callback import DigitsMLP, interleaved_config, loader, step_pair_change
from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments

from dynamics_stats.callbacks import HFMonitor, MonitorConfig
from dynamics_stats.callbacks.alerts import LOGGER_NAME


def digits() -> list[dict[str, Any]]:
    """The digits of ``bench_callback.py`` as the examples the Trainer hands to the model."""
    inputs, labels = loader().dataset.tensors
    return [{"x": row, "labels": label} for row, label in zip(inputs, labels, strict=True)]


class TrainerMLP(torch.nn.Module):  # type: ignore[misc]
    """The MLP of ``bench_callback.py``, returning {"loss": ...} as the Trainer expects."""

    def __init__(self) -> None:
        super().__init__()
        self.net = DigitsMLP().net

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        return {"loss": torch.nn.functional.cross_entropy(self.net(x), labels)}


class DoNothing(TrainerCallback):  # type: ignore[misc]
    """Every method a no-op (TrainerCallback's own): the zero of the measure."""


class Interleaver(TrainerCallback):  # type: ignore[misc]
    """Puts a callback into the Trainer's callback list or takes it out at every step.

    Within each pair of steps the order (with, without) is drawn at random; records the
    wall time of every step (one ``on_step_begin`` to the next) and whether the callback
    was in the list.
    """

    def __init__(self, callback: TrainerCallback, seed: int = 0) -> None:
        self.callback = callback
        self.rng = random.Random(seed)
        self.times: list[tuple[int, bool, float]] = []  # (step, with it, seconds)
        self.handler: Any = None
        self._last: float | None = None
        self._with = True
        self._order = (True, False)

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        now = time.perf_counter()
        step = state.global_step
        if self._last is not None:
            self.times.append((step - 1, self._with, now - self._last))
        if step % 2 == 0:
            self._order = (True, False) if self.rng.random() < 0.5 else (False, True)
        self._set(self._order[step % 2])
        self._last = time.perf_counter()  # the switch itself is not timed

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._set(True)  # the monitor's final analysis runs as usual

    def _set(self, present: bool) -> None:
        self._with = present
        callbacks = self.handler.callbacks
        if present and self.callback not in callbacks:
            callbacks.append(self.callback)
        elif not present and self.callback in callbacks:
            callbacks.remove(self.callback)


def interleaved(n_steps: int, callback: TrainerCallback, logging_steps: int) -> tuple[float, ...]:
    """Mean step time with ``callback`` over without it, minus 1, in percent, and a 90% interval.

    Returns
    -------
    (float, float, float, float)
        The change, the interval's two ends, and the mean step time without it (seconds).
    """
    torch.manual_seed(0)
    switch = Interleaver(callback)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            report_to=[],
            use_cpu=True,
            max_steps=n_steps,
            logging_steps=logging_steps,
            learning_rate=0.05,
            optim="sgd",
            lr_scheduler_type="constant",
            per_device_train_batch_size=32,
            save_strategy="no",
            disable_tqdm=True,
            seed=0,
        )
        trainer = Trainer(
            model=TrainerMLP(), args=args, train_dataset=digits(), callbacks=[switch, callback]
        )
        trainer.remove_callback(PrinterCallback)  # prints every log: not part of the measure
        switch.handler = trainer.callback_handler
        trainer.train()
    return step_pair_change(switch.times, first_pair=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps per interleaved run")
    parser.add_argument("--repeats", type=int, default=1, help="runs per setting")
    parser.add_argument(
        "--logging-steps", default="500,1", help="the Trainer's logging_steps to measure"
    )
    options = parser.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    logging.getLogger(LOGGER_NAME).setLevel(logging.ERROR)  # the monitor's alerts
    warnings.filterwarnings("ignore")
    settings = {
        "a callback whose methods do nothing (zero)": DoNothing,
        "HFMonitor, default settings": lambda: HFMonitor(interleaved_config(MonitorConfig())),
    }
    print(f"interleaved step by step within runs of {options.steps} steps, torch threads 1:")
    for logging_steps in (int(n) for n in options.logging_steps.split(",")):
        print(f"logging_steps={logging_steps}:")
        for name, make in settings.items():
            for _ in range(options.repeats):
                change, low, high, base = interleaved(options.steps, make(), logging_steps)
                print(
                    f"  {name}: mean step time {change:+.2f}% [90% interval {low:+.2f}, "
                    f"{high:+.2f}] (step without it {1e3 * base:.2f} ms)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
