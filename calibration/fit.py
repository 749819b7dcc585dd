"""Fit the calibration maps and regenerate calibration/REPORT.md — the one command.

    python calibration/fit.py [--n-runs 1200] [--seed 20261126] [--jobs 2]

1. Generates the synthetic corpus from its seed (``dynamics_stats.io.synthetic``) and scores
   every run with the package's detectors (cached in ``calibration/data/``).
2. For each of the seven kinds, chooses between Platt scaling and isotonic regression by
   held-out log-loss in 5-fold grouped cross-validation (a run never straddles folds), and
   reports held-out metrics only.
3. Fits the chosen map on the whole corpus and writes it into the package
   (``dynamics_stats/calibration/maps/default.json``) with the corpus hash and date.
4. Writes the report, reliability diagrams, what the analyzer says on the public runs, and
   the regression guard of a few fixed real runs (tests/data/regression_probabilities.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import corpus_hash, score_corpus  # noqa: E402
from metrics import reliability_points, summarize  # noqa: E402
from regression import write_regression  # noqa: E402
from report import write_report  # noqa: E402

from dynamics_stats.calibration import CalibrationMap, IsotonicCalibrator, PlattCalibrator  # noqa: E402
from dynamics_stats.core.results import CalibrationInfo  # noqa: E402
from dynamics_stats.detectors import CORE_KINDS  # noqa: E402

MAP_PATH = HERE.parent / "dynamics_stats" / "calibration" / "maps" / "default.json"
MIN_ISOTONIC_POSITIVES = 40


def _candidates(y: np.ndarray) -> dict[str, type]:
    found = {"platt": PlattCalibrator}
    if y.sum() >= MIN_ISOTONIC_POSITIVES and (len(y) - y.sum()) >= MIN_ISOTONIC_POSITIVES:
        found["isotonic"] = IsotonicCalibrator
    return found


def _out_of_fold(cls: type, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    p = np.full(len(y), np.nan)
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        p[test] = cls().fit(x[train], y[train]).predict(x[test])
    return p


def fit_kind(frame: pd.DataFrame, kind: str) -> dict[str, object]:
    """Choose, evaluate (held out) and fit the calibrator of one kind."""
    rows = frame[np.isfinite(frame[f"score_{kind}"])]
    x, y = rows[f"score_{kind}"].to_numpy(float), rows[f"label_{kind}"].to_numpy(int)
    groups = rows["run"].to_numpy()
    held_out = {name: _out_of_fold(cls, x, y, groups) for name, cls in _candidates(y).items()}
    losses = {name: log_loss(y, np.clip(p, 1e-6, 1 - 1e-6)) for name, p in held_out.items()}
    method = min(losses, key=losses.get)
    p = held_out[method]
    stats = summarize(x, p, y)
    stats["log_loss"] = losses[method]
    stats["onset_error"] = _onset_error(rows, kind, p)
    final = _candidates(y)[method]().fit(x, y)
    return {"method": method, "stats": stats, "calibrator": final, "p": p, "y": y, "losses": losses}


def _onset_error(rows: pd.DataFrame, kind: str, p: np.ndarray) -> float:
    """Median |predicted - true onset| / run length over detected true positives."""
    hit = (p >= 0.5) & (rows[f"label_{kind}"].to_numpy() == 1)
    pred = rows[f"onset_{kind}"].to_numpy(float)[hit]
    true = rows[f"true_onset_{kind}"].to_numpy(float)[hit]
    length = rows["n_steps"].to_numpy(float)[hit]
    ok = np.isfinite(pred) & np.isfinite(true) & (length > 0)
    return float(np.median(np.abs(pred[ok] - true[ok]) / length[ok])) if ok.any() else float("nan")


def _write_map(fits: dict[str, dict[str, object]], n_runs: int, seed: int, digest: str) -> None:
    info = CalibrationInfo(
        name="synthetic-v1",
        version=f"{dt.date.today().isoformat()}-{digest[:8]}",
        calibrated=True,
        description=(
            f"Fitted on {n_runs} synthetic runs with known problems (dynamics_stats.io.synthetic, "
            f"seed {seed}); a probability is the held-out frequency with which runs scored "
            "like this one had the problem in that corpus. Not yet fitted on real runs: see "
            "calibration/REPORT.md."
        ),
    )
    cmap = CalibrationMap(
        info=info,
        calibrators={k: f["calibrator"] for k, f in fits.items()},  # type: ignore[misc]
        corpus_hash=digest,
        created=dt.date.today().isoformat(),
    )
    MAP_PATH.write_text(json.dumps(cmap.to_dict(), indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-runs", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    digest = corpus_hash(args.n_runs, args.seed)
    cache = HERE / "data" / f"synthetic_scores_{digest}.csv"
    if cache.is_file():
        frame = pd.read_csv(cache)
    else:
        frame = score_corpus(args.n_runs, args.seed, jobs=args.jobs)
        for old in (HERE / "data").glob("synthetic_scores_*.csv"):
            old.unlink()
        frame.to_csv(cache, index=False)
    fits = {kind: fit_kind(frame, kind) for kind in CORE_KINDS}
    _write_map(fits, args.n_runs, args.seed, digest)
    curves = {k: reliability_points(f["p"], f["y"]) for k, f in fits.items()}
    write_report(fits, curves, n_runs=args.n_runs, seed=args.seed, digest=digest)
    write_regression()
    for kind, fit in fits.items():
        s = fit["stats"]
        print(
            f"{kind:22s} {fit['method']:9s} raw AUC {s['raw_auc']:.3f} F1 {s['f1']:.3f} "
            f"ECE {s['ece']:.3f} Brier {s['brier']:.3f} (base {s['brier_base_rate']:.3f})"
        )


if __name__ == "__main__":
    main()
