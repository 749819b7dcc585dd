"""Explicit numeric label rules for the real runs, independent of the package's detectors.

Every rule reads only a run's ``metrics.csv`` and returns ``(label, onset_step)``. The verified
label of a kind is its rule's answer, whatever the run was meant to show: a "healthy" run
whose validation loss rises is labelled overfitting, an "oscillation" run that diverges is
labelled divergence. ``labels.csv`` records the intended kinds beside the verified ones.
The thresholds are stated in README.md and were fixed before looking at detector scores.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.kinds import CORE_KINDS

KINDS = CORE_KINDS
Rule = tuple[bool, int | None]


def read_metrics(path: Path) -> dict[str, pd.Series]:
    """Series indexed by step: train loss, val loss, grad norm, first/last-layer grad norms.

    Cells are read as text so a logged ``nan``/``inf`` loss stays distinct from a blank cell.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = {}
    layer = sorted(c for c in raw.columns if c.startswith("grad_2.0_norm/"))
    names = {"train": "train_loss", "val": "val_loss", "grad": "grad_2.0_norm_total"}
    if len(layer) == 2:  # sorted: "net.0.weight" before "net.<last>.weight" (same digit count)
        first, last = sorted(layer, key=lambda c: int(c.split(".")[-2]))
        names.update({"grad_first": first, "grad_last": last})
    for key, column in names.items():
        if column in raw:
            rows = raw[raw[column] != ""]
            out[key] = pd.Series(rows[column].astype(float).to_numpy(), rows["step"].astype(int))
    return out


def _smooth(values: pd.Series, window: int) -> pd.Series:
    clean = values.replace([np.inf, -np.inf, np.nan], 1e30)
    return clean.rolling(window, center=True, min_periods=1).median()


def _window(n: int) -> int:
    return max(5, (n // 50) | 1)


def divergence(m: dict[str, pd.Series]) -> Rule:
    """Non-finite loss, or final smoothed loss >= 10x its minimum (no recovery by the end)."""
    loss = m["train"]
    smooth = _smooth(loss, _window(len(loss)))
    tail = loss.iloc[-max(5, len(loss) // 20) :]
    low = float(smooth.min())
    final = float(np.median(tail.replace([np.inf, -np.inf, np.nan], 1e30)))
    if not (np.isfinite(tail).all() and final < 10 * low) or not np.isfinite(loss).all():
        after = smooth.loc[smooth.idxmin() :]
        onset = after[after > 3 * low]
        return True, int(onset.index[0]) if len(onset) else int(loss.index[-1])
    return False, None


def overfitting(m: dict[str, pd.Series]) -> Rule:
    """Val loss ends >= 20% above its minimum, stays > 10% above it on >= 75% of later evals,
    the minimum is before 75% of the run, and train loss falls >= 20% after the minimum."""
    if "val" not in m or len(m["val"]) < 8 or not np.isfinite(m["train"]).all():
        return False, None
    val = m["val"].rolling(3, center=True, min_periods=1).median()
    best_step, best = int(val.idxmin()), float(val.min())
    last_step = int(m["train"].index[-1])
    later = val.loc[best_step:].iloc[1:]
    if len(later) < 3 or best <= 0 or best_step > 0.75 * last_step:
        return False, None
    final_val = float(np.median(m["val"].iloc[-3:]))
    train = m["train"]
    near = train[(train.index >= best_step - 0.025 * last_step)]
    near = near[near.index <= best_step + 0.025 * last_step]
    final_train = float(np.median(train.iloc[-max(5, len(train) // 10) :]))
    ok = (
        final_val >= 1.2 * best
        and float((later > 1.1 * best).mean()) >= 0.75
        and final_train <= 0.8 * float(np.median(near))
    )
    return (True, best_step) if ok else (False, None)


def loss_spikes(m: dict[str, pd.Series]) -> Rule:
    """A loss value >= 3x the 95th percentile of the previous 50 logged values, exceeding
    their median by >= 10% of the initial loss, and back below max(1.5 median, median +
    10% initial) in the median of the 3rd..23rd values after it."""
    loss = m["train"].to_numpy()
    steps = m["train"].index.to_numpy()
    initial = float(np.nanmedian(loss[:10]))
    for i in range(20, len(loss) - 23):
        prev = loss[max(0, i - 50) : i]
        prev = prev[np.isfinite(prev)]
        if len(prev) < 15 or not np.isfinite(loss[i]):
            continue
        med, q95 = float(np.median(prev)), float(np.percentile(prev, 95))
        if loss[i] < 3 * q95 or loss[i] - med < 0.1 * initial:
            continue
        after = float(np.median(loss[i + 3 : i + 23]))
        if after <= max(1.5 * med, med + 0.1 * initial):
            return True, int(steps[i])
    return False, None


def stalled(m: dict[str, pd.Series]) -> Rule:
    """Finite loss whose median over the last 10% is < 10% below its median over the first
    5%, never rising above 1.5x that start."""
    loss = m["train"]
    if not np.isfinite(loss).all():
        return False, None
    start = float(np.median(loss.iloc[: max(5, len(loss) // 20)]))
    end = float(np.median(loss.iloc[-max(5, len(loss) // 10) :]))
    smooth = _smooth(loss, _window(len(loss)))
    ok = start > 0 and (start - end) / start < 0.10 and float(smooth.max()) <= 1.5 * start
    return (True, int(loss.index[0])) if ok else (False, None)


def oscillation(m: dict[str, pd.Series]) -> Rule:
    """Over the last 70% of a finite loss: the residual from a 31-value rolling median has
    >= 25% of its power in 3 adjacent frequency bins (>= 4 cycles) and a standard deviation
    >= 2% of the loss median and >= 1% of the initial loss."""
    loss = m["train"].iloc[int(0.3 * len(m["train"])) :]
    if len(loss) < 60 or not np.isfinite(loss).all():
        return False, None
    resid = (loss - loss.rolling(31, center=True, min_periods=1).median()).to_numpy()
    power = np.abs(np.fft.rfft(resid - resid.mean()))[1:] ** 2
    if power.sum() <= 0:
        return False, None
    peak = int(np.argmax(power[3:])) + 3
    share = float(power[max(0, peak - 1) : peak + 2].sum() / power.sum())
    amplitude = float(np.std(resid) / max(np.median(np.abs(loss)), 1e-12))
    visible = float(np.std(resid)) >= 0.01 * float(np.median(m["train"].iloc[:10]))
    if share < 0.25 or amplitude < 0.02 or not visible:
        return False, None
    spread = pd.Series(resid, loss.index).rolling(31, min_periods=10).std()
    onset = spread[spread >= 0.5 * spread.median()]
    return True, int(onset.index[0]) - 15 if len(onset) else int(loss.index[0])


def exploding_gradients(m: dict[str, pd.Series]) -> Rule:
    """While the loss is finite, the grad norm turns non-finite or its 5-value rolling median
    reaches >= 20x its median over 5-15% of the run and >= 3x its initial level."""
    if "grad" not in m:
        return False, None
    finite_steps = m["train"][np.isfinite(m["train"])].index
    grad = m["grad"][m["grad"].index.isin(finite_steps)]
    n = len(grad)
    ref = grad.iloc[int(0.05 * n) : max(int(0.15 * n), int(0.05 * n) + 5)]
    ref_level = float(np.median(ref[np.isfinite(ref)])) if len(ref) else float("nan")
    if not np.isfinite(ref_level) or ref_level <= 0:
        return False, None
    initial = float(np.median(grad.iloc[:5]))
    rolling = _smooth(grad, 5)
    hit = rolling[((rolling >= 20 * ref_level) & (rolling >= 3 * initial)) | ~np.isfinite(grad)]
    if not len(hit):
        return False, None
    early = rolling[rolling >= 10 * ref_level]
    return True, int(early.index[0])


def vanishing_gradients(m: dict[str, pd.Series]) -> Rule:
    """First-layer / last-layer grad-norm ratio with median <= 1e-3 over the run (or, without
    layer norms, a median total grad norm <= 1e-4)."""
    if "grad_first" in m and "grad_last" in m:
        ratio = (m["grad_first"] / m["grad_last"]).replace([np.inf, -np.inf], np.nan).dropna()
        if len(ratio) >= 10 and float(ratio.median()) <= 1e-3:
            low = ratio.rolling(5, min_periods=1).median()
            return True, int(low[low <= 1e-3].index[0])
        return False, None
    grad = m.get("grad")
    if grad is not None and len(grad) >= 10 and float(grad.median()) <= 1e-4:
        return True, int(grad.index[0])
    return False, None


RULES: dict[str, Callable[[dict[str, pd.Series]], Rule]] = {
    "overfitting": overfitting,
    "stalled": stalled,
    "divergence": divergence,
    "loss_spikes": loss_spikes,
    "oscillation": oscillation,
    "exploding_gradients": exploding_gradients,
    "vanishing_gradients": vanishing_gradients,
}


def label_run(path: Path) -> dict[str, Rule]:
    """Apply every rule to one run's metrics.csv."""
    metrics = read_metrics(path)
    return {kind: rule(metrics) for kind, rule in RULES.items()}


def write_labels(specs: list, runs: Path, out: Path, *, run_id: Callable) -> None:
    """Label every generated run and write labels.csv (one row per run)."""
    rows = []
    for spec in specs:
        for seed in spec.seeds:
            rid = run_id(spec, seed)
            path = runs / rid / "metrics.csv"
            if not path.is_file():
                continue
            labels = label_run(path)
            found = {k for k, (flag, _) in labels.items() if flag}
            row = {
                "run_id": rid,
                "group": spec.group,
                "mechanism": spec.mechanism,
                "intended": ";".join(spec.intended),
                "verified_as_intended": int(found == set(spec.intended)),
                "hard_negative": spec.hard_negative,
                "n_steps": int(read_metrics(path)["train"].index[-1]) + 1,
                "known_onset": spec.known_onset(seed),
            }
            row.update({f"label_{k}": int(labels[k][0]) for k in KINDS})
            row.update({f"onset_{k}": labels[k][1] for k in KINDS})
            rows.append(row)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
