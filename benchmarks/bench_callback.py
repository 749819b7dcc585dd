"""Overhead of LightningMonitor on a small MLP trained on scikit-learn digits (CPU).

For each setting, the same seeded training runs with and without the monitor; the training
loop is timed from ``on_train_start`` to ``on_train_end`` (wall and process CPU time), so
the one-off final analysis in ``on_fit_end`` is reported apart. Settings are interleaved
and repeated; the figures are medians. Also reported: the time spent inside the monitor's
hooks, a direct measure that does not depend on noise from other processes.

Prints figures; not a test.

Usage: python benchmarks/bench_callback.py [N_STEPS] [REPEATS]
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
import warnings
from typing import Any

import lightning.pytorch as pl
import torch
from sklearn.datasets import load_digits

from dynamics_stats.callbacks import LightningMonitor, MonitorConfig

HOOKS = ("on_before_optimizer_step", "on_train_batch_end", "on_validation_end")


class DigitsMLP(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
        )

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


class TimedMonitor(LightningMonitor):
    """LightningMonitor that adds up the time spent in its per-step hooks."""

    hook_seconds = 0.0
    final_seconds = 0.0

    def __init__(self, config: MonitorConfig | None = None) -> None:
        super().__init__(config)
        self.calls: dict[str, list[float]] = {name: [] for name in HOOKS}

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        start = time.perf_counter()
        super().on_fit_end(trainer, pl_module)
        self.final_seconds = time.perf_counter() - start


def _timed(name: str) -> Any:
    hook = getattr(LightningMonitor, name)

    def wrapper(self: TimedMonitor, *args: Any) -> Any:
        start = time.perf_counter()
        out = hook(self, *args)
        elapsed = time.perf_counter() - start
        self.hook_seconds += elapsed
        self.calls[name].append(elapsed)
        return out

    return wrapper


for _name in HOOKS:
    setattr(TimedMonitor, _name, _timed(_name))


def loader() -> torch.utils.data.DataLoader:
    x, y = load_digits(return_X_y=True)
    data = torch.utils.data.TensorDataset(
        torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    )
    return torch.utils.data.DataLoader(
        data, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0)
    )


def run(n_steps: int, config: MonitorConfig | None) -> dict[str, float]:
    torch.manual_seed(0)
    timer = LoopTimer()
    monitor = TimedMonitor(config) if config is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            max_steps=n_steps,
            default_root_dir=tmp,
            logger=False,
            callbacks=[timer] + ([monitor] if monitor else []),
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(DigitsMLP(), loader())
    out = {"wall": timer.wall, "cpu": timer.cpu}
    if monitor is not None:
        out["hooks"] = monitor.hook_seconds
        out["final"] = monitor.final_seconds
        out["alerts"] = len(monitor.alerts)
        # typical per-step cost: sum over the per-step hooks of their median call
        out["median_step"] = sum(statistics.median(c) for c in monitor.calls.values() if c)
    return out


def main() -> None:
    n_steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(1)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    settings: dict[str, MonitorConfig | None] = {
        "without monitor": None,
        "default (background analysis every 500, 1% time budget)": MonitorConfig(),
        "inline analysis every 500, 1% time budget": MonitorConfig(analysis_in_background=False),
        "per-step checks only (no full analysis)": MonitorConfig(analysis_every_n_steps=10**9),
        "worst: inline analysis every 50, no budget": MonitorConfig(
            analysis_in_background=False, analysis_every_n_steps=50, max_analysis_time_frac=None
        ),
    }
    run(200, None)  # warm-up: imports, first-call costs
    results: dict[str, list[dict[str, float]]] = {name: [] for name in settings}
    for _ in range(repeats):
        for name, config in settings.items():
            results[name].append(run(n_steps, config))
    base = results["without monitor"]
    base_wall = statistics.median(r["wall"] for r in base)
    print(f"{n_steps} steps, {repeats} repeats, torch threads 1, medians")
    print(f"without monitor: loop {base_wall:.2f} s wall ({1e3 * base_wall / n_steps:.2f} ms/step)")
    for name, rows in results.items():
        if name == "without monitor":
            continue
        wall = statistics.median(r["wall"] / b["wall"] for r, b in zip(rows, base, strict=True))
        cpu = statistics.median(r["cpu"] / b["cpu"] for r, b in zip(rows, base, strict=True))
        hooks = statistics.median(r["hooks"] / r["wall"] for r in rows)
        final = statistics.median(r["final"] for r in rows)
        per_step_us = 1e6 * statistics.median(r["hooks"] for r in rows) / n_steps
        steady_us = 1e6 * statistics.median(r["median_step"] for r in rows)
        steady = statistics.median(
            r["median_step"] * n_steps / b["wall"] for r, b in zip(rows, base, strict=True)
        )
        print(
            f"{name}: wall ratio {wall:.4f} ({100 * (wall - 1):+.2f}%), main-process CPU ratio "
            f"{cpu:.4f} ({100 * (cpu - 1):+.2f}%), time in monitor hooks "
            f"{100 * hooks:.2f}% of the loop ({per_step_us:.1f} us/step on average, "
            f"{steady_us:.1f} us/step typical = {100 * steady:.2f}% of a step without monitor); "
            f"final analysis {final:.2f} s"
        )


if __name__ == "__main__":
    main()
