"""Score the synthetic corpus: one row per run with every kind's raw score and truth."""

from __future__ import annotations

import hashlib
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from dynamics_stats import validate_run
from dynamics_stats.curves import model_curves
from dynamics_stats.detectors import CORE_KINDS, default_detectors, run_detectors
from dynamics_stats.io import synthetic


def corpus_hash(n_runs: int, seed: int) -> str:
    """Hash of what defines the corpus: the generator's source files, the count and the seed."""
    digest = hashlib.sha256(f"{n_runs}:{seed}".encode())
    folder = Path(synthetic.__file__).parent
    for path in sorted(folder.glob("*synthetic*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _score_chunk(args: tuple[int, int, int]) -> list[dict[str, object]]:
    start, stop, seed = args
    detectors = default_detectors()
    rows = []
    for index, (run, truth) in enumerate(synthetic.make_corpus(stop, seed=seed)):
        if index < start:
            continue
        evidence = run_detectors(model_curves(validate_run(run)), detectors).evidence
        row: dict[str, object] = {
            "run": index,
            "n_steps": truth.config.get("n_steps"),
            "naming": truth.config.get("naming"),
            "hard_negative": truth.hard_negative or "",
        }
        for kind in CORE_KINDS:
            found = [e for e in evidence if e.kind == kind]
            best = max(found, key=lambda e: e.score) if found else None
            row[f"score_{kind}"] = best.score if best else math.nan
            row[f"onset_{kind}"] = (
                best.onset_step if best and best.onset_step is not None else math.nan
            )
            row[f"label_{kind}"] = int(kind in truth.kinds)
            row[f"true_onset_{kind}"] = truth.onsets.get(kind, math.nan)
        rows.append(row)
    return rows


def score_corpus(n_runs: int, seed: int, *, jobs: int = 2, chunk: int = 50) -> pd.DataFrame:
    """Generate and score ``n_runs`` synthetic runs in ``jobs`` processes."""
    tasks = [(s, min(s + chunk, n_runs), seed) for s in range(0, n_runs, chunk)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(_score_chunk, tasks))
    return pd.DataFrame([row for part in parts for row in part]).sort_values("run")
