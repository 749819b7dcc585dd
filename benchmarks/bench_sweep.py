"""Benchmark: a synthetic sweep of 1,000 runs x 5,000 steps, analysed run by run and correlated.

Run ``python benchmarks/bench_sweep.py [--n-runs 1000] [--n-steps 5000] [--modes ...]``.

Each run is `dynamics_stats.io.synthetic.make_run` with random hyper-parameters that drive
known effects, written as a Lightning-style run folder (``metrics.csv`` + ``hparams.yaml``)
in a temporary folder, so workers read their own run from disk:

- ``lr`` (log-uniform 1e-4..1e-1): runs with lr > 0.03 diverge (``divergence`` injected);
- ``dropout`` (uniform 0..0.5): runs with dropout < 0.1 (and lr <= 0.03) overfit;
- ``width`` (16..1024, log2-uniform): every loss is scaled by ``(width / 64) ** -0.5``, so
  wider is better for the objective (best validation loss);
- ``batch_size`` (16..256) and ``tag`` (0..999): inert.

The whole sweep is analysed by a local pool of 2 processes (``--main-mode``); the scaling
with workers is measured on the first ``--scaling-runs`` runs with a pool of 1 and 2
processes and a Dask ``LocalCluster`` of 2 worker processes. For each, the script prints the
wall time of the per-run analyses and of the correlation, the CPU time of this process and
its workers (independent of other load on the machine) and the load average, then the
parameters found for the whole sweep (which should show the known effects).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dynamics_stats.agent._progress import ProgressBar
from dynamics_stats.agent.sweep import analyze_runs, correlate_runs
from dynamics_stats.io.sweep import SweepSource, load_sweep
from dynamics_stats.io.synthetic import make_run
from dynamics_stats.sweeps.result import SweepResult

LR_DIVERGES = 0.03
DROPOUT_OVERFITS = 0.1


def draw_params(rng: np.random.Generator) -> dict[str, float | int]:
    """Draw one run's hyper-parameters."""
    return {
        "lr": float(10 ** rng.uniform(-4, -1)),
        "dropout": round(float(rng.uniform(0, 0.5)), 4),
        "width": int(2 ** rng.integers(4, 11)),
        "batch_size": int(2 ** rng.integers(4, 9)),
        "tag": int(rng.integers(0, 1000)),
    }


def write_run(folder: Path, params: dict[str, float | int], *, n_steps: int, seed: int) -> None:
    """Generate the run the parameters imply and write it as metrics.csv + hparams.yaml."""
    kind = None
    if params["lr"] > LR_DIVERGES:
        kind = "divergence"
    elif params["dropout"] < DROPOUT_OVERFITS:
        kind = "overfitting"
    scale = (params["width"] / 64) ** -0.5
    run, _ = make_run(kind, n_steps=n_steps, seed=seed, loss_scale=scale)
    wide = run.records.pivot_table(index="step", columns="metric", values="value", dropna=False)
    wide.index = wide.index.astype(int)
    folder.mkdir(parents=True)
    wide.reset_index().to_csv(folder / "metrics.csv", index=False, float_format="%.6g")
    (folder / "hparams.yaml").write_text(yaml.safe_dump(params))


def make_sweep(root: Path, *, n_runs: int, n_steps: int, seed: int) -> float:
    """Write the sweep into ``root``; return the seconds it took."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    bar = ProgressBar(n_runs, label="runs written")
    for index in range(n_runs):
        write_run(root / f"run_{index:04d}", draw_params(rng), n_steps=n_steps, seed=index)
        bar.advance()
    bar.close()
    return time.perf_counter() - start


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (pool and Dask workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _analyse(source: SweepSource, mode: str) -> dict[str, object]:
    """Per-run analyses in ``mode``, then the correlation: wall and CPU times, the result."""
    cpu_start, setup = _cpu_seconds(), 0.0
    if mode.startswith("dask"):
        from dask.distributed import Client, LocalCluster

        start = time.perf_counter()
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            client.run(lambda: __import__("dynamics_stats.agent.sweep"))
            setup, start = time.perf_counter() - start, time.perf_counter()
            records = analyze_runs(source, client=client, progress=True)
            per_run = time.perf_counter() - start
    else:
        start = time.perf_counter()
        records = analyze_runs(source, jobs=int(mode.split("-")[1]), progress=True)
        per_run = time.perf_counter() - start
    start = time.perf_counter()
    result = correlate_runs(source, records)
    correlate = time.perf_counter() - start
    return {
        "mode": mode,
        "n_runs": len(source.runs),
        "setup_s": setup,
        "per_run_s": per_run,
        "correlate_s": correlate,
        "total_s": setup + per_run + correlate,
        "cpu_s": _cpu_seconds() - cpu_start,
        "load_avg": os.getloadavg()[0],
        "result": result,
    }


def _effects(result: SweepResult) -> pd.DataFrame:
    rows = [
        {
            "rank": p.rank,
            "parameter": p.name,
            "importance": p.importance,
            "spearman": p.spearman,
            "p_adj": p.p_value_adjusted,
            "significant": p.significant,
            "drives": ", ".join(f"{k.kind}({k.effect_size:+.2f})" for k in p.pathologies),
        }
        for p in result.parameters
    ]
    return pd.DataFrame(rows)


def _row_text(row: dict[str, object]) -> str:
    return (
        f"{row['mode']} on {row['n_runs']} runs: setup {row['setup_s']:.1f} s, per-run "
        f"analyses {row['per_run_s']:.1f} s, "
        f"correlation {row['correlate_s']:.1f} s, CPU {row['cpu_s']:.0f} s, "
        f"load average {row['load_avg']:.1f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Write the synthetic sweep, analyse it in every mode and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-runs", type=int, default=1000)
    parser.add_argument("--n-steps", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--main-mode", default="pool-2", help="mode for the whole sweep")
    parser.add_argument("--scaling-runs", type=int, default=200, help="runs for the scaling")
    parser.add_argument("--scaling-modes", nargs="*", default=["pool-1", "pool-2", "dask-2"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        root = Path(tmp)
        written = make_sweep(root, n_runs=args.n_runs, n_steps=args.n_steps, seed=args.seed)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        print(f"wrote {args.n_runs} runs x {args.n_steps} steps ({size:.0f} MB) in {written:.1f} s")
        source = load_sweep(root)
        rows = [_analyse(source, args.main_mode)]
        print(_row_text(rows[-1]), flush=True)
        result = rows[0]["result"]
        subset = replace(source, runs=source.runs[: args.scaling_runs])
        for mode in args.scaling_modes:
            rows.append(_analyse(subset, mode))
            print(_row_text(rows[-1]), flush=True)
        table = pd.DataFrame([{k: v for k, v in row.items() if k != "result"} for row in rows])
        table["cpu_ms_per_run"] = table["cpu_s"] / table["n_runs"] * 1000
        print(table.round(2).to_string(index=False))
        print(f"\nobjective {result.objective} ({result.direction}), {result.n_runs_used} runs")
        print(_effects(result).round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
