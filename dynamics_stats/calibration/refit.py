"""Refit the calibration maps on the shipped corpus plus the user's own labelled runs.

The user's runs are what the refit is for, so they are also what it is judged on: the
shipped map and the refit are compared on the user's runs, the refit held out by grouped
cross-validation over those runs (a run's labels never straddle a training and a test fold).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.calibration._corpus_scores import load_corpus_scores
from dynamics_stats.calibration.evaluation import HeldOutMetrics, evaluate_probabilities
from dynamics_stats.calibration.feedback import read_labels, read_run_scores
from dynamics_stats.calibration.maps import SHIPPED, CalibrationMap, Calibrator, load_map
from dynamics_stats.calibration.multi import MultiScoreCalibrator
from dynamics_stats.calibration.selection import CalibratorSelection, select_calibrator
from dynamics_stats.core.errors import InputError
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.core.results import CalibrationInfo
from dynamics_stats.core.types import FloatArray

__all__ = [
    "KindRefit",
    "RefitResult",
    "load_corpus_scores",
    "refit_with_feedback",
]

_CLIP = 1e-6
_KINDS = list(CORE_KINDS)


@dataclass(frozen=True, slots=True)
class KindRefit:
    """Before/after record of one kind on the user's labelled runs.

    Parameters
    ----------
    kind : str
    n_user, n_user_positive : int
        User runs labelled for this kind, and how many of them have it.
    before, after : HeldOutMetrics or None
        Shipped map and held-out refit on those runs (None when not computable).
    log_loss_gain : tuple of (float, float, float)
        Log loss before minus after: estimate and 90% bootstrap interval over the user's
        run groups (each run its own group unless labelled otherwise).
    method : str
        Calibrator of the refit map ("shipped" when this kind kept the shipped one).
    """

    kind: str
    n_user: int
    n_user_positive: int
    before: HeldOutMetrics | None
    after: HeldOutMetrics | None
    log_loss_gain: tuple[float, float, float]
    method: str


@dataclass(frozen=True, slots=True, eq=False)
class RefitResult:
    """The refit map and how it compares with the shipped one on the user's runs.

    Parameters
    ----------
    cmap : CalibrationMap
        The refit maps (kinds without user labels keep the shipped calibrator).
    kinds : tuple of KindRefit
        One record per core kind.
    n_user_runs, n_corpus_runs : int
        Labelled user runs and corpus runs used.
    """

    cmap: CalibrationMap
    kinds: tuple[KindRefit, ...]
    n_user_runs: int
    n_corpus_runs: int

    def summary(self) -> str:
        """Return a fixed-width before/after table with a note on the interval widths."""
        lines = [
            f"Refit on {self.n_corpus_runs} corpus runs + {self.n_user_runs} labelled user runs.",
            "Held out on your runs (grouped CV: a run, or a labelled run group, is never split "
            "between fit and test); 'before' is the shipped map.",
            f"{'kind':<21}{'n':>4}{'pos':>5}{'logloss':>15}{'brier':>15}{'f1':>13}"
            f"{'gain [90% CI]':>24}  method",
        ]
        for k in self.kinds:
            pairs = [_pair(k.before, k.after, name) for name in ("log_loss", "brier", "f1")]
            gain = (
                "-"
                if math.isnan(k.log_loss_gain[0])
                else ("{:+.3f} [{:+.3f}, {:+.3f}]".format(*k.log_loss_gain))
            )
            lines.append(
                f"{k.kind:<21}{k.n_user:>4}{k.n_user_positive:>5}{pairs[0]:>15}{pairs[1]:>15}"
                f"{pairs[2]:>13}{gain:>24}  {k.method}"
            )
        lines.append(
            "gain = log loss before - after (> 0: the refit is better). With few labelled "
            "runs the interval is wide: treat a gain whose interval spans 0 as no evidence."
        )
        return "\n".join(lines)


def _pair(before: HeldOutMetrics | None, after: HeldOutMetrics | None, name: str) -> str:
    def show(m: HeldOutMetrics | None) -> str:
        return "-" if m is None else f"{getattr(m, name):.3f}"

    if before is None and after is None:
        return "-"
    return f"{show(before)}->{show(after)}"


def _user_rows(kind: str, labels: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    mine = labels[labels["kind"] == kind].set_index("fingerprint")
    rows = scores.loc[mine.index, _KINDS].add_prefix("score_")
    rows[f"label_{kind}"] = mine["label"].astype(float)
    family = mine["run_group"].where(mine["run_group"].notna(), mine.index.to_series())
    rows.insert(0, "group", "user:" + family.astype(str).to_numpy())
    return rows.reset_index(drop=True)


def _fit(kind: str, train: pd.DataFrame, user_weight: float) -> CalibratorSelection:
    ok = ~np.isnan(train[f"score_{kind}"].to_numpy(float))
    train = train[ok]
    x = np.nan_to_num(train[[f"score_{k}" for k in _KINDS]].to_numpy(float), nan=0.0)
    weight = np.where(train["group"].str.startswith("user:"), user_weight, 1.0)
    return select_calibrator(
        x,
        train[f"label_{kind}"].to_numpy(int),
        train["group"].to_numpy(),
        own_column=_KINDS.index(kind),
        kinds=CORE_KINDS,
        sample_weight=weight,
    )


def _predict(calibrator: Calibrator, kind: str, rows: pd.DataFrame, prior: float) -> FloatArray:
    own = rows[f"score_{kind}"].to_numpy(float)
    if isinstance(calibrator, MultiScoreCalibrator):  # its own column order
        columns = [f"score_{k}" for k in calibrator.kinds]
        p = calibrator.predict(np.nan_to_num(rows[columns].to_numpy(float), nan=0.0))
    else:
        p = calibrator.predict(np.nan_to_num(own, nan=0.0))
    return np.asarray(np.where(np.isnan(own), prior, p), dtype=np.float64)


def _shipped_probabilities(cmap: CalibrationMap, kind: str, rows: pd.DataFrame) -> FloatArray:
    calibrator = cmap.calibrators.get(kind)
    prior = cmap.prior(kind)
    if calibrator is None:
        return np.full(len(rows), prior if prior is not None else 0.5)
    return _predict(calibrator, kind, rows, prior if prior is not None else 0.5)


def _held_out(
    kind: str, corpus: pd.DataFrame, user: pd.DataFrame, *, user_weight: float, n_splits: int
) -> FloatArray:
    from sklearn.model_selection import GroupKFold

    p = np.full(len(user), np.nan)
    folds = GroupKFold(n_splits=min(n_splits, user["group"].nunique()))
    for train, test in folds.split(user, groups=user["group"]):
        fitted = _fit(kind, pd.concat([corpus, user.iloc[train]]), user_weight).calibrator
        prior = float(corpus[f"label_{kind}"].mean())
        p[test] = _predict(fitted, kind, user.iloc[test], prior)
    return p


def _log_loss_terms(p: FloatArray, y: FloatArray) -> FloatArray:
    q = np.clip(p, _CLIP, 1 - _CLIP)
    return -(y * np.log(q) + (1 - y) * np.log(1 - q))


def _gain(
    before: FloatArray, after: FloatArray, y: FloatArray, groups: pd.Series
) -> tuple[float, float, float]:
    """Mean log-loss gain and its 90% interval, bootstrapping run groups (not rows)."""
    diff = pd.Series(_log_loss_terms(before, y) - _log_loss_terms(after, y))
    codes = pd.factorize(groups.to_numpy())[0]
    sums, counts = np.bincount(codes, weights=diff), np.bincount(codes)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(sums), size=(2000, len(sums)))
    boot = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    low, high = np.quantile(boot, [0.05, 0.95])
    return float(diff.mean()), float(low), float(high)


def _refit_kind(
    kind: str,
    corpus: pd.DataFrame,
    user: pd.DataFrame,
    shipped: CalibrationMap,
    options: tuple[float, int],
) -> tuple[KindRefit, Calibrator | None]:
    y = user[f"label_{kind}"].to_numpy(float)
    if user.empty:
        return KindRefit(kind, 0, 0, None, None, (math.nan,) * 3, "shipped"), None
    before = _shipped_probabilities(shipped, kind, user)
    after = None
    if user["group"].nunique() >= 2:
        after = _held_out(kind, corpus, user, user_weight=options[0], n_splits=options[1])
    selection = _fit(kind, pd.concat([corpus, user]), options[0])
    return (
        KindRefit(
            kind=kind,
            n_user=len(user),
            n_user_positive=int(y.sum()),
            before=evaluate_probabilities(before, y),
            after=None if after is None else evaluate_probabilities(after, y),
            log_loss_gain=(math.nan,) * 3
            if after is None
            else _gain(before, after, y, user["group"]),
            method=selection.method,
        ),
        selection.calibrator,
    )


def _info(
    shipped: CalibrationMap, n_runs: int, refit: tuple[str, ...], digest: str
) -> CalibrationInfo:
    today = dt.date.today().isoformat()
    return CalibrationInfo(
        name=f"user-{today}+{shipped.info.name}",
        version=f"{today}-{digest[:8]}",
        calibrated=True,
        description=(
            f"The shipped map {shipped.info.name} {shipped.info.version} refitted with "
            f"{n_runs} runs labelled by the user (kinds refitted: {', '.join(refit) or 'none'}); "
            "see 'dynamics-stats calibrate --with-feedback' for its held-out comparison."
        ),
    )


def refit_with_feedback(
    *,
    corpus: str | Path | pd.DataFrame | None = None,
    store: str | Path | None = None,
    user_weight: float = 1.0,
    n_splits: int = 5,
) -> RefitResult:
    """Refit each labelled kind's calibrator on the corpus plus the user's labels.

    Parameters
    ----------
    corpus : str, pathlib.Path, DataFrame or None, default=None
        Corpus scores (see `load_corpus_scores`); None reads the shipped ones.
    store : str, pathlib.Path or None, default=None
        The feedback store (see `dynamics_stats.calibration.feedback.store_path`).
    user_weight : float, default=1.0
        Weight of each user run relative to a corpus run in the fits.
    n_splits : int, default=5
        Folds over the user's runs for the held-out comparison (fewer with fewer runs).

    Returns
    -------
    RefitResult
        Nothing is written; `RefitResult.cmap` is the map to save.

    Raises
    ------
    InputError
        If the store holds no labels.
    """
    labels = read_labels(store=store)
    if labels.empty:
        raise InputError(
            "the feedback store holds no labels yet; label runs first with "
            "'dynamics-stats feedback RUN --kind KIND --present yes|no' or --import labels.csv."
        )
    scores = read_run_scores(store=store)
    frame = load_corpus_scores(corpus)
    shipped = load_map(SHIPPED, kinds=CORE_KINDS)
    options = (user_weight, n_splits)
    records, calibrators = [], dict(shipped.calibrators)
    for kind in CORE_KINDS:
        user = _user_rows(kind, labels, scores)
        record, calibrator = _refit_kind(kind, frame, user, shipped, options)
        records.append(record)
        if calibrator is not None:
            calibrators[kind] = calibrator
    refit = tuple(r.kind for r in records if r.n_user)
    digest = hashlib.sha256(labels.to_csv(index=False).encode()).hexdigest()
    cmap = CalibrationMap(
        info=_info(shipped, labels["fingerprint"].nunique(), refit, digest),
        calibrators=calibrators,
        corpus_hash=f"{shipped.corpus_hash}+user-{digest[:8]}",
        created=dt.date.today().isoformat(),
    )
    return RefitResult(cmap, tuple(records), labels["fingerprint"].nunique(), len(frame))
