"""Time the in-process analysis of long runs, and the whole CLI on a 10k-step run.

Prints figures (median of repeats); not a test. Each size runs in a fresh process so the
peak memory (max RSS) is that size's alone.

Usage: python benchmarks/bench_analysis.py [N_STEPS ...]   (or --cli: the command only)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_frame(n_steps: int, seed: int = 0) -> pd.DataFrame:
    """Train loss, validation loss every 1% of the run, grad norm and LR at every step."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n_steps)
    loss = (0.3 + 2 * (1 + steps / (n_steps / 50)) ** -0.7) * np.exp(rng.normal(0, 0.1, n_steps))
    val = np.full(n_steps, np.nan)
    every = max(n_steps // 100, 1)
    val[every - 1 :: every] = loss[every - 1 :: every] * 1.1
    norm = np.exp(rng.normal(0, 0.2, n_steps))
    lr = 1e-3 * np.minimum(1.0, (steps + 1) / (n_steps / 20))
    return pd.DataFrame({"step": steps, "loss": loss, "val_loss": val, "grad_norm": norm, "lr": lr})


def time_in_process(n_steps: int, repeats: int) -> None:
    from dynamics_stats import AnalysisConfig, load_run, validate_run
    from dynamics_stats.agent.analyze import analyze_artifacts

    artifacts = validate_run(load_run(make_frame(n_steps)))
    analyze_artifacts(artifacts, AnalysisConfig())  # warm imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        analyze_artifacts(artifacts, AnalysisConfig())
        times.append(time.perf_counter() - start)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"analysis of {n_steps:>9,} steps (4 metrics): median {statistics.median(times):.3f} s "
        f"over {repeats} runs; process peak RSS {peak_mib:.0f} MiB"
    )


def time_cli(n_steps: int = 10_000, repeats: int = 9) -> None:
    """Time the whole command as a user runs it, with Python's bytecode caches in place.

    A pip-installed package ships compiled bytecode; an editable install writes it at its
    first run, unless ``PYTHONDONTWRITEBYTECODE`` is set (then every run recompiles the
    package's modules, about 0.15 s more): the variable is dropped and one untimed run
    writes the caches.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.csv"
        make_frame(n_steps).to_csv(path, index=False)
        command = [str(Path(sys.executable).with_name("dynamics-stats")), "analyze", str(path)]
        subprocess.run(command, check=True, capture_output=True, env=env)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            times.append(time.perf_counter() - start)
    low, _, high = statistics.quantiles(times, n=4)
    print(
        f"whole 'dynamics-stats analyze' process, {n_steps:,} steps: median "
        f"{statistics.median(times):.2f} s [interquartile {low:.2f}-{high:.2f}] over {repeats} runs"
    )


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        n = int(argv[1])
        time_in_process(n, repeats=5 if n <= 100_000 else 2)
        return
    if argv and argv[0] == "--cli":
        time_cli()
        return
    for n in [int(a) for a in argv] or [10_000, 100_000, 1_000_000]:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)
    time_cli()


if __name__ == "__main__":
    main(sys.argv[1:])
