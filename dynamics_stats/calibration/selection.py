"""`select_calibrator`: choose a kind's calibrator by grouped cross-validated log loss.

Shared by ``calibration/fit.py`` (the shipped maps) and the user-feedback refit, so both
choose and evaluate maps the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dynamics_stats.calibration.beta import BetaCalibrator
from dynamics_stats.calibration.evaluation import HeldOutMetrics, evaluate_probabilities
from dynamics_stats.calibration.isotonic import IsotonicCalibrator
from dynamics_stats.calibration.multi import MultiScoreCalibrator
from dynamics_stats.calibration.platt import PlattCalibrator
from dynamics_stats.core.errors import InputError
from dynamics_stats.core.types import FloatArray

__all__ = ["CANDIDATES", "CalibratorSelection", "select_calibrator"]

AnyCalibrator = PlattCalibrator | BetaCalibrator | IsotonicCalibrator | MultiScoreCalibrator
#: Candidate names, in the order they are tried (ties go to the earlier, simpler one).
CANDIDATES = ("platt", "beta", "isotonic", "multi")
_CLIP = 1e-6


@dataclass(frozen=True, slots=True, eq=False)
class CalibratorSelection:
    """The chosen calibrator of one kind, fitted on all rows, and its held-out record.

    Parameters
    ----------
    method : str
        Name of the chosen candidate.
    calibrator : PlattCalibrator, BetaCalibrator, IsotonicCalibrator or MultiScoreCalibrator
        The chosen candidate refitted on every row.
    metrics : HeldOutMetrics
        Out-of-fold metrics of the chosen candidate.
    candidate_log_loss : tuple of (str, float)
        Out-of-fold (weighted) log loss of every candidate tried.
    out_of_fold : ndarray of float64
        Out-of-fold probabilities of the chosen candidate, in input row order.
    n_splits : int
        Folds actually used.
    """

    method: str
    calibrator: AnyCalibrator
    metrics: HeldOutMetrics
    candidate_log_loss: tuple[tuple[str, float], ...]
    out_of_fold: FloatArray
    n_splits: int


def _builders(kinds: tuple[str, ...]) -> dict[str, Callable[[], AnyCalibrator]]:
    return {
        "platt": PlattCalibrator,
        "beta": BetaCalibrator,
        "isotonic": IsotonicCalibrator,
        "multi": lambda: MultiScoreCalibrator(kinds=kinds),
    }


def _fit_predict(
    build: Callable[[], AnyCalibrator],
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
) -> Callable[[FloatArray], FloatArray]:
    """Fit one candidate; a training fold with one class predicts its (weighted) rate."""
    if len(np.unique(y)) < 2:
        rate = float(np.average(y, weights=w))
        return lambda rows: np.full(len(rows), rate)
    cal = build()
    cal.fit(x, y, sample_weight=w)
    return cal.predict


def _log_loss(p: FloatArray, y: FloatArray, w: FloatArray) -> float:
    q = np.clip(p, _CLIP, 1 - _CLIP)
    return float(np.average(-(y * np.log(q) + (1 - y) * np.log(1 - q)), weights=w))


def _check(scores: FloatArray, labels: FloatArray, groups: FloatArray) -> None:
    if scores.ndim not in (1, 2) or not len(scores) == len(labels) == len(groups):
        raise InputError(
            "select_calibrator needs 1-D or 2-D scores with one row per label and group; got "
            f"scores of shape {scores.shape}, {len(labels)} labels, {len(groups)} groups."
        )
    if not set(np.unique(labels).tolist()) <= {0, 1} or len(np.unique(labels)) < 2:
        raise InputError(
            "select_calibrator needs 0/1 labels with both classes present; got classes "
            f"{sorted(set(np.asarray(labels).tolist()))}. Label more runs of the missing class."
        )


def select_calibrator(  # noqa: PLR0913 - keyword-only options of one documented step
    scores: FloatArray,
    labels: FloatArray,
    groups: FloatArray,
    *,
    own_column: int = 0,
    kinds: tuple[str, ...] = (),
    sample_weight: FloatArray | None = None,
    n_splits: int = 5,
    min_isotonic_class: int = 40,
    candidates: tuple[str, ...] = CANDIDATES,
) -> CalibratorSelection:
    """Choose, evaluate out of fold and refit the calibrator of one kind.

    Parameters
    ----------
    scores : ndarray of float, shape (n_runs,) or (n_runs, n_kinds)
        Raw detector scores. With 2-D scores, column ``own_column`` is the kind's own score
        (used by the one-score candidates) and the ``multi`` candidate uses every column.
    labels : ndarray of {0, 1}
        Whether each run has the problem.
    groups : ndarray
        Generating configuration (or user run family) of each run: runs of one group never
        straddle a training and a test fold.
    own_column : int, default=0
        See ``scores``.
    kinds : tuple of str, default=()
        Column names of 2-D scores (needed by ``multi``).
    sample_weight : ndarray of float or None, default=None
        Row weights, used in the fits and in the log loss that chooses.
    n_splits : int, default=5
        Folds of ``GroupKFold`` (fewer when there are fewer groups).
    min_isotonic_class : int, default=40
        Isotonic regression is tried only with at least this many positives and negatives.
    candidates : tuple of str, default=CANDIDATES
        Candidates to try, among ``platt``, ``beta``, ``isotonic`` and ``multi``.

    Returns
    -------
    CalibratorSelection

    Raises
    ------
    InputError
        If shapes disagree, labels are not 0/1 with both classes, or there are < 2 groups.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> s = np.where(y == 1, rng.gamma(4.0, 1.0, 300), rng.gamma(1.0, 0.5, 300))
    >>> sel = select_calibrator(s, y, np.arange(300) // 3, candidates=("platt", "beta"))
    >>> sel.method in ("platt", "beta") and sel.metrics.auc > 0.9
    True
    """
    x_all, y, groups = np.asarray(scores, float), np.asarray(labels, int), np.asarray(groups)
    _check(x_all, y, groups)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    own = x_all if x_all.ndim == 1 else x_all[:, own_column]
    n_pos = int(y.sum())
    tried = [
        c
        for c in candidates
        if (c != "isotonic" or min(n_pos, len(y) - n_pos) >= min_isotonic_class)
        and (c != "multi" or (x_all.ndim == 2 and len(kinds) == x_all.shape[1]))
    ]
    folds = min(n_splits, len(np.unique(groups)))
    if folds < 2:
        raise InputError(f"select_calibrator needs at least 2 groups; got {folds}.")
    builders = _builders(kinds)
    inputs = {name: x_all if name == "multi" else own for name in tried}
    oof = _out_of_fold({n: builders[n] for n in tried}, inputs, y, w, groups, folds)
    losses = {name: _log_loss(p, y, w) for name, p in oof.items()}
    method = min(tried, key=lambda name: losses[name])
    final = builders[method]().fit(inputs[method], y, sample_weight=w)
    return CalibratorSelection(
        method=method,
        calibrator=final,
        metrics=evaluate_probabilities(oof[method], y, raw_scores=own),
        candidate_log_loss=tuple(losses.items()),
        out_of_fold=oof[method],
        n_splits=folds,
    )


def _out_of_fold(  # noqa: PLR0913 - one internal step
    builders: dict[str, Callable[[], AnyCalibrator]],
    inputs: dict[str, FloatArray],
    y: FloatArray,
    w: FloatArray,
    groups: FloatArray,
    folds: int,
) -> dict[str, FloatArray]:
    """Out-of-fold probabilities of every candidate under the same grouped folds."""
    from sklearn.model_selection import GroupKFold

    oof = {name: np.full(len(y), np.nan) for name in builders}
    for train, test in GroupKFold(n_splits=folds).split(y, y, groups):
        for name, build in builders.items():
            x = inputs[name]
            oof[name][test] = _fit_predict(build, x[train], y[train], w[train])(x[test])
    return oof
