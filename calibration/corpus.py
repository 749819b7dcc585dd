"""Score the corpora: one row per run with every kind's raw score, onset and truth.

Scores are cached in ``calibration/data/`` under a key that hashes what defines the corpus
AND the source of every package layer a score depends on (core, io, validate, curves,
detectors, agent), so a detector change can never leave stale scores behind. The live
monitor's online tests (``curves/online.py``) are left out: the analysis never imports them.
"""

from __future__ import annotations

import csv
import hashlib
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

import dynamics_stats
from dynamics_stats import load_run, validate_run
from dynamics_stats.agent.analyze import analyze_in_detail
from dynamics_stats.detectors import CORE_KINDS
from dynamics_stats.io import synthetic

PACKAGE = Path(dynamics_stats.__file__).resolve().parent
SCORING_LAYERS = ("core", "io", "validate", "curves", "detectors", "agent")
REAL = Path(__file__).resolve().parent / "real"
# modules of those layers that no score depends on: the live monitor's online tests
NOT_SCORING = ("curves/online.py",)


def _hash_sources(digest: hashlib._Hash) -> None:  # type: ignore[name-defined]
    for layer in SCORING_LAYERS:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            if path.relative_to(PACKAGE).as_posix() in NOT_SCORING:
                continue
            digest.update(path.relative_to(PACKAGE).as_posix().encode())
            digest.update(path.read_bytes())


def corpus_hash(n_runs: int, seed: int) -> str:
    """Hash of the synthetic corpus (count, seed, generator) and of the scoring code."""
    digest = hashlib.sha256(f"{n_runs}:{seed}".encode())
    _hash_sources(digest)
    return digest.hexdigest()[:16]


def real_hash(folder: Path = REAL) -> str:
    """Hash of the real corpus (labels.csv and every run's files) and of the scoring code."""
    digest = hashlib.sha256((folder / "labels.csv").read_bytes())
    for path in sorted((folder / "runs").glob("*/*")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    _hash_sources(digest)
    return digest.hexdigest()[:16]


def _evidence(run: object) -> tuple:
    """The raw evidence the analyzer itself computes for a run (default configuration)."""
    return analyze_in_detail(validate_run(run)).evidence


def _row(evidence: tuple, truth_kinds: set[str], onsets: dict[str, float]) -> dict[str, object]:
    row: dict[str, object] = {}
    for kind in CORE_KINDS:
        found = [e for e in evidence if e.kind == kind]
        best = max(found, key=lambda e: e.score) if found else None
        row[f"score_{kind}"] = best.score if best else math.nan
        row[f"onset_{kind}"] = best.onset_step if best and best.onset_step is not None else math.nan
        row[f"label_{kind}"] = int(kind in truth_kinds)
        row[f"true_onset_{kind}"] = onsets.get(kind, math.nan)
    return row


def _score_chunk(args: tuple[int, int, int]) -> list[dict[str, object]]:
    start, stop, seed = args
    rows = []
    for index, (run, truth) in enumerate(synthetic.make_corpus(stop, seed=seed)):
        if index < start:
            continue
        evidence = _evidence(run)
        row: dict[str, object] = {
            "source": "synthetic",
            "run": f"syn{index:05d}",
            "group": f"syn{index:05d}",
            "n_steps": truth.config.get("n_steps"),
            "hard_negative": truth.hard_negative or "",
        }
        row.update(_row(evidence, set(truth.kinds), dict(truth.onsets)))
        rows.append(row)
    return rows


def _score_chunk_cached(args: tuple[int, int, int, str]) -> list[dict[str, object]]:
    """Score one chunk, or read it from its partial cache file (so a stopped run resumes)."""
    start, stop, seed, folder = args
    path = Path(folder) / f"chunk_{start:06d}_{stop:06d}.csv"
    if path.is_file():
        return pd.read_csv(path, keep_default_na=False, na_values=[""]).to_dict("records")
    rows = _score_chunk((start, stop, seed))
    pd.DataFrame(rows).to_csv(path, index=False)
    return rows


def score_corpus(
    n_runs: int, seed: int, *, jobs: int = 2, chunk: int = 50, partial: Path | None = None
) -> pd.DataFrame:
    """Generate and score ``n_runs`` synthetic runs in ``jobs`` processes.

    With ``partial``, each chunk is also saved there as it finishes and read back on a rerun.
    """
    folder = partial or Path(__file__).resolve().parent / "data" / "partial"
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(s, min(s + chunk, n_runs), seed, str(folder)) for s in range(0, n_runs, chunk)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(_score_chunk_cached, tasks))
    return pd.DataFrame([row for part in parts for row in part])


def _score_real_run(label: dict[str, str]) -> dict[str, object]:
    run = load_run(REAL / "runs" / label["run_id"])
    evidence = _evidence(run)
    kinds = {k for k in CORE_KINDS if label[f"label_{k}"] == "1"}
    onsets = {k: float(label[f"onset_{k}"]) for k in kinds if label[f"onset_{k}"] != ""}
    row: dict[str, object] = {
        "source": "real",
        "run": label["run_id"],
        "group": label["group"],
        "n_steps": int(label["n_steps"]),
        "hard_negative": label["hard_negative"],
    }
    row.update(_row(evidence, kinds, onsets))
    return row


def score_real(*, jobs: int = 2, folder: Path = REAL) -> pd.DataFrame:
    """Score every labelled real run (labels from ``labels.csv``) in ``jobs`` processes."""
    with open(folder / "labels.csv", newline="") as handle:
        labels = list(csv.DictReader(handle))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(_score_real_run, labels, chunksize=8))
    return pd.DataFrame(rows)
