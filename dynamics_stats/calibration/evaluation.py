"""Held-out quality of probabilities: log loss, Brier, equal-mass ECE, AUC, F1 at 0.5."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from dynamics_stats.core.types import FloatArray

__all__ = ["HeldOutMetrics", "equal_mass_ece", "evaluate_probabilities"]

_CLIP = 1e-6


def equal_mass_ece(probabilities: FloatArray, labels: FloatArray, *, n_bins: int = 10) -> float:
    """Return the expected calibration error over bins holding equal numbers of runs.

    Examples
    --------
    >>> round(equal_mass_ece(np.array([0.1, 0.1, 0.9, 0.9]), np.array([0, 0, 1, 1])), 3)
    0.1
    """
    p, y = np.asarray(probabilities, float), np.asarray(labels, float)
    order = np.argsort(p, kind="stable")
    bins = [b for b in np.array_split(order, min(n_bins, len(p))) if len(b)]
    return float(sum(len(b) * abs(p[b].mean() - y[b].mean()) for b in bins) / len(p))


@dataclass(frozen=True, slots=True)
class HeldOutMetrics:
    """Out-of-fold quality of one kind's probabilities (NaN where undefined).

    Parameters
    ----------
    n, positives : int
        Runs and positive runs.
    log_loss, brier, brier_base_rate, ece : float
        Proper scores; ``brier_base_rate`` is the Brier score of always predicting the
        positive rate, so ``brier < brier_base_rate`` means the probabilities carry signal.
    auc, raw_auc : float
        ROC-AUC of the probabilities and of the raw scores (NaN without both classes).
    precision, recall, f1 : float
        At the 0.5 threshold.
    """

    n: int
    positives: int
    log_loss: float
    brier: float
    brier_base_rate: float
    ece: float
    auc: float
    raw_auc: float
    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, float]:
        """Return the metrics as a plain dict."""
        return {k: float(v) for k, v in asdict(self).items()}


def _auc(values: FloatArray, y: FloatArray) -> float:
    from sklearn.metrics import roc_auc_score

    if not 0 < y.sum() < len(y):
        return float("nan")
    return float(roc_auc_score(y, np.nan_to_num(values, nan=0.0)))


def evaluate_probabilities(
    probabilities: FloatArray, labels: FloatArray, *, raw_scores: FloatArray | None = None
) -> HeldOutMetrics:
    """Compute `HeldOutMetrics` of out-of-fold probabilities.

    Parameters
    ----------
    probabilities : ndarray of float
        Held-out probabilities.
    labels : ndarray of {0, 1}
    raw_scores : ndarray of float or None, default=None
        The detector's raw scores, for the AUC before calibration.

    Returns
    -------
    HeldOutMetrics
    """
    p = np.clip(np.asarray(probabilities, float), _CLIP, 1 - _CLIP)
    y = np.asarray(labels, float)
    hit = p >= 0.5
    tp = float((hit & (y == 1)).sum())
    precision = tp / hit.sum() if hit.sum() else 0.0
    recall = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    raw = np.asarray(raw_scores, float) if raw_scores is not None else None
    return HeldOutMetrics(
        n=len(y),
        positives=int(y.sum()),
        log_loss=float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
        brier=float(np.mean((p - y) ** 2)),
        brier_base_rate=float(np.mean((y.mean() - y) ** 2)),
        ece=equal_mass_ece(p, y),
        auc=_auc(p, y),
        raw_auc=_auc(raw, y) if raw is not None else float("nan"),
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
    )
