"""Held-out calibration metrics: ECE with a bootstrap interval, Brier, F1, AUC."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import brier_score_loss, f1_score, precision_score, recall_score, roc_auc_score


def equal_mass_ece(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error over bins holding equal numbers of runs."""
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, min(n_bins, len(p)))
    return float(sum(len(b) * abs(p[b].mean() - y[b].mean()) for b in bins if len(b)) / len(p))


def bootstrap_ece(
    p: np.ndarray, y: np.ndarray, *, n_boot: int = 300, seed: int = 0
) -> tuple[float, float]:
    """95% percentile bootstrap interval of the equal-mass ECE (runs resampled)."""
    rng = np.random.default_rng(seed)
    values = [
        equal_mass_ece(p[i], y[i]) for i in (rng.integers(0, len(p), len(p)) for _ in range(n_boot))
    ]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def summarize(raw: np.ndarray, p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Every number the report gives for one kind, on held-out predictions."""
    predicted = (p >= 0.5).astype(int)
    low, high = bootstrap_ece(p, y)
    return {
        "n": float(len(y)),
        "positives": float(y.sum()),
        "raw_auc": _auc(raw, y),
        "auc": _auc(p, y),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "brier": float(brier_score_loss(y, p)),
        "brier_base_rate": float(brier_score_loss(y, np.full(len(y), y.mean()))),
        "ece": equal_mass_ece(p, y),
        "ece_low": low,
        "ece_high": high,
    }


def reliability_points(
    p: np.ndarray, y: np.ndarray, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Mean predicted probability and observed frequency per equal-mass bin."""
    order = np.argsort(p, kind="stable")
    bins = [b for b in np.array_split(order, min(n_bins, len(p))) if len(b)]
    return np.array([p[b].mean() for b in bins]), np.array([y[b].mean() for b in bins])
