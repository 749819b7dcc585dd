"""Time loading + validating long logs in-process (prints figures; not a test).

Usage: python benchmarks/bench_load.py [N_STEPS ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dynamics_stats import load_run, validate_run


def write_lightning_csv(folder: Path, n_steps: int) -> Path:
    """Write a Lightning-style sparse metrics.csv: step rows, and val rows every 1000 steps."""
    rng = np.random.default_rng(0)
    steps = np.arange(n_steps)
    loss = 2.0 * (1 + steps / 500) ** -0.5 * np.exp(rng.normal(0, 0.1, n_steps))
    lines = ["epoch,step,grad_2.0_norm_total,lr-Adam,train_loss_step,val_loss"]
    for s in steps:
        lines.append(f"{s // 1000},{s},{1.0 + 0.1 * rng.random():.5f},0.001,{loss[s]:.6f},")
        if s % 1000 == 999:
            lines.append(f"{s // 1000},{s},,,,{loss[s] * 1.1:.6f}")
    path = folder / "metrics.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def time_load(path: Path, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        validate_run(load_run(path))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = Path(tmp) / f"run{n}"
            folder.mkdir()
            path = write_lightning_csv(folder, n)
            size_mb = path.stat().st_size / 1e6
            print(
                f"lightning metrics.csv, {n:>9,} steps ({size_mb:5.1f} MB): "
                f"load+validate median {time_load(path):.3f} s"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
