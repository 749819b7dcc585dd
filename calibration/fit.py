"""Fit the calibration maps and regenerate calibration/REPORT.md — the one command.

    python calibration/fit.py [--n-runs 1200] [--seed 20261126] [--jobs 2] [--real-weight 1.0]

1. Scores the synthetic corpus (generated from its seed) and the labelled real runs of
   ``calibration/real/`` with the analyzer's own evidence; scores are cached in
   ``calibration/data/`` under a hash of the corpus AND of the scoring code (core, io,
   validate, curves, detectors, agent), so they are recomputed whenever a detector changes.
2. For each of the seven kinds, ``dynamics_stats.calibration.select_calibrator`` chooses among
   Platt, beta, isotonic and a logistic model over all seven scores by held-out log loss in
   grouped 5-fold cross-validation on synthetic + real runs together (runs of one generating
   configuration never straddle folds). Real runs are weighted so that both sources carry
   equal total weight (times ``--real-weight``).
3. Reports held-out metrics separately for synthetic and real runs, writes the out-of-fold
   probabilities of the real runs (``data/heldout_real.csv``), the corpus scores shipped in
   the package (``dynamics_stats/calibration/maps/corpus_scores.csv``), the fitted map
   (``maps/default.json``), REPORT.md with reliability diagrams, and the regression guard.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import corpus_hash, real_hash, score_corpus, score_real  # noqa: E402
from metrics import bootstrap_ece, reliability_points  # noqa: E402
from regression import write_regression  # noqa: E402
from report import write_report  # noqa: E402

from dynamics_stats.calibration import CalibrationMap  # noqa: E402
from dynamics_stats.calibration.evaluation import evaluate_probabilities  # noqa: E402
from dynamics_stats.calibration.selection import select_calibrator  # noqa: E402
from dynamics_stats.core.results import CalibrationInfo  # noqa: E402
from dynamics_stats.detectors import CORE_KINDS  # noqa: E402

MAPS = HERE.parent / "dynamics_stats" / "calibration" / "maps"
DATA = HERE / "data"
SOURCES = ("synthetic", "real")


def _cached(prefix: str, digest: str, compute: object) -> pd.DataFrame:
    """Read ``data/<prefix>_<digest>.csv`` or compute it (and drop older caches)."""
    path = DATA / f"{prefix}_{digest}.csv"
    if path.is_file():
        return pd.read_csv(path, keep_default_na=True)
    frame = compute()  # type: ignore[operator]
    for old in DATA.glob(f"{prefix}_*.csv"):
        old.unlink()
    frame.to_csv(path, index=False)
    return frame


def load_corpus(n_runs: int, seed: int, jobs: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """Both scored corpora in one frame, and their hashes."""
    digests = {"synthetic": corpus_hash(n_runs, seed), "real": real_hash()}
    partial = DATA / f"partial_{digests['synthetic']}"
    synthetic = _cached(
        "synthetic_scores",
        digests["synthetic"],
        lambda: score_corpus(n_runs, seed, jobs=jobs, partial=partial),
    )
    for old in DATA.glob("partial_*"):  # chunk files of finished or outdated scorings
        for path in old.iterdir():
            path.unlink()
        old.rmdir()
    real = _cached("real_scores", digests["real"], lambda: score_real(jobs=jobs))
    frame = pd.concat([synthetic, real], ignore_index=True)
    frame["hard_negative"] = frame["hard_negative"].fillna("")
    return frame, digests


def _weights(frame: pd.DataFrame, real_weight: float) -> np.ndarray:
    is_real = (frame["source"] == "real").to_numpy()
    n_real, n_syn = int(is_real.sum()), int((~is_real).sum())
    return np.where(is_real, real_weight * n_syn / max(n_real, 1), 1.0)


def _onset_error(rows: pd.DataFrame, kind: str, p: np.ndarray) -> float:
    """Median |predicted - true onset| / run length over detected true positives."""
    hit = (p >= 0.5) & (rows[f"label_{kind}"].to_numpy() == 1)
    pred = rows[f"onset_{kind}"].to_numpy(float)[hit]
    true = rows[f"true_onset_{kind}"].to_numpy(float)[hit]
    length = rows["n_steps"].to_numpy(float)[hit]
    ok = np.isfinite(pred) & np.isfinite(true) & (length > 0)
    return float(np.median(np.abs(pred[ok] - true[ok]) / length[ok])) if ok.any() else float("nan")


def _source_stats(rows: pd.DataFrame, kind: str, p: np.ndarray) -> dict[str, float]:
    y = rows[f"label_{kind}"].to_numpy(int)
    raw = rows[f"score_{kind}"].to_numpy(float)
    stats = evaluate_probabilities(p, y, raw_scores=raw).to_dict()
    stats["ece_low"], stats["ece_high"] = bootstrap_ece(p, y.astype(float))
    stats["onset_error"] = _onset_error(rows, kind, p)
    return stats


def fit_kind(frame: pd.DataFrame, kind: str, real_weight: float) -> dict[str, object]:
    """Choose and evaluate (held out, per source) the calibrator of one kind, then refit."""
    rows = frame[np.isfinite(frame[f"score_{kind}"])].reset_index(drop=True)
    scores = rows[[f"score_{k}" for k in CORE_KINDS]].to_numpy(float)
    selection = select_calibrator(
        scores,
        rows[f"label_{kind}"].to_numpy(int),
        rows["group"].astype(str).to_numpy(),
        own_column=CORE_KINDS.index(kind),
        kinds=tuple(CORE_KINDS),
        sample_weight=_weights(rows, real_weight),
    )
    p = selection.out_of_fold
    per_source, curves = {}, {}
    for source in SOURCES:
        mask = (rows["source"] == source).to_numpy()
        if mask.any() and 0 < rows.loc[mask, f"label_{kind}"].sum() < mask.sum():
            per_source[source] = _source_stats(rows[mask], kind, p[mask])
            curves[source] = reliability_points(p[mask], rows.loc[mask, f"label_{kind}"].to_numpy())
        per_source.setdefault(source, {"n": float(mask.sum()), "note": "one class only"})
    held = rows.loc[rows["source"] == "real", ["run", "group", f"label_{kind}"]].copy()
    held.columns = ["run_id", "group", "label"]
    held.insert(2, "kind", kind)
    held.insert(3, "probability", np.round(p[(rows["source"] == "real").to_numpy()], 6))
    return {
        "method": selection.method,
        "calibrator": selection.calibrator,
        "losses": dict(selection.candidate_log_loss),
        "stats": per_source,
        "curves": curves,
        "heldout_real": held,
        "n_unassessed": {
            s: int(((frame["source"] == s) & ~np.isfinite(frame[f"score_{kind}"])).sum())
            for s in SOURCES
        },
    }


def _write_map(fits: dict[str, dict[str, object]], counts: dict[str, int], digest: str) -> None:
    today = dt.date.today().isoformat()
    info = CalibrationInfo(
        name="synthetic+real-v2",
        version=f"{today}-{digest[:8]}",
        calibrated=True,
        description=(
            f"Fitted on {counts['synthetic']} synthetic runs and {counts['real']} real Lightning "
            "runs with labels checked by numeric rules (calibration/real/); a probability is the "
            "held-out frequency with which runs scored like this one had the problem in that "
            "corpus. Held-out accuracy on the real runs is in calibration/REPORT.md."
        ),
    )
    cmap = CalibrationMap(
        info=info,
        calibrators={k: f["calibrator"] for k, f in fits.items()},  # type: ignore[misc]
        corpus_hash=digest,
        created=today,
    )
    (MAPS / "default.json").write_text(json.dumps(cmap.to_dict(), indent=1) + "\n")


def _write_tables(frame: pd.DataFrame, fits: dict[str, dict[str, object]]) -> None:
    held = pd.concat([f["heldout_real"] for f in fits.values()], ignore_index=True)
    held.to_csv(DATA / "heldout_real.csv", index=False)
    columns = ["source", "run", "group"]
    for kind in CORE_KINDS:
        columns += [f"score_{kind}", f"label_{kind}"]
    frame[columns].to_csv(MAPS / "corpus_scores.csv", index=False, float_format="%.6g")


def main(argv: list[str] | None = None) -> None:
    """Score, fit, evaluate and write everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-runs", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--real-weight", type=float, default=1.0)
    args = parser.parse_args(argv)
    start = time.time()
    frame, digests = load_corpus(args.n_runs, args.seed, args.jobs)
    digest = f"{digests['synthetic'][:8]}{digests['real'][:8]}"
    print(f"scored {len(frame)} runs in {time.time() - start:.0f}s", flush=True)
    fits = {kind: fit_kind(frame, kind, args.real_weight) for kind in CORE_KINDS}
    counts = {s: int((frame["source"] == s).sum()) for s in SOURCES}
    _write_map(fits, counts, digest)
    _write_tables(frame, fits)
    write_report(fits, counts=counts, seed=args.seed, digests=digests)
    write_regression()
    for kind, fit in fits.items():
        for source in SOURCES:
            s = fit["stats"][source]  # type: ignore[index]
            if "f1" in s:
                print(
                    f"{kind:20s} {source:9s} {fit['method']:8s} F1 {s['f1']:.3f} "
                    f"P {s['precision']:.3f} "
                    f"R {s['recall']:.3f} AUC {s['auc']:.3f} ECE {s['ece']:.3f} "
                    f"Brier {s['brier']:.3f}/{s['brier_base_rate']:.3f}"
                )
    print(f"done in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
