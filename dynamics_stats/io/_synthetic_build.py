"""Assemble the per-step curves of a synthetic run and log them as `RunLog` records."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dynamics_stats.core.run_log import RECORD_COLUMNS
from dynamics_stats.core.types import FloatArray, Role, StepUnit
from dynamics_stats.io._synthetic_base import BaseParams, ar1_noise, decay, lr_memory
from dynamics_stats.io._synthetic_kinds import Overlay

__all__ = ["NAMINGS", "CleanLogs", "Curves", "build_curves", "clean_logs", "log_records"]

#: Metric names per naming style, for train loss, val loss, learning rate and grad norm.
NAMINGS: dict[str, tuple[str, str, str, str | None]] = {
    "lightning": ("train_loss_step", "val_loss", "lr-Adam", "grad_2.0_norm_total"),
    "hf": ("loss", "eval_loss", "learning_rate", "grad_norm"),
    "keras": ("loss", "val_loss", "lr", None),
    "slash": ("train/loss", "val/loss", "train/lr", "train/grad_norm"),
}
_ROLES: tuple[Role, ...] = ("train_loss", "val_loss", "learning_rate", "grad_norm")
_START_TIME = 1.7e9


@dataclass(frozen=True, slots=True)
class Curves:
    """Per-step values of a run (index ``i`` is step ``i + 1``), before logging."""

    train: FloatArray
    val: FloatArray
    lr: FloatArray
    grad: FloatArray

    def scaled(self, loss_scale: float) -> Curves:
        """Return the curves with every loss (and the grad norm) multiplied by ``loss_scale``."""
        return Curves(
            train=self.train * loss_scale,
            val=self.val * loss_scale,
            lr=self.lr,
            grad=self.grad * loss_scale,
        )


def _progress(p: BaseParams, ov: Overlay, time: FloatArray, lr_rel: FloatArray) -> FloatArray:
    if ov.progress_frac is None:
        return decay(p, time)
    healthy_end = float(np.sum(lr_rel))
    done = 1.0 - float(decay(p, np.array([healthy_end]))[0])
    return np.asarray(1.0 - ov.progress_frac * done * time / healthy_end, dtype=float)


def _held(time: FloatArray, start: int | None, hold: float) -> FloatArray:
    """Effective time of the validation loss after ``start``.

    A fraction ``hold`` of it saturates softly (generalisation stops); the rest goes on.
    """
    if start is None:
        return time
    held = time.copy()
    excess = time[start:] - time[start]
    scale = 0.02 * float(excess[-1]) + 1e-12
    saturating = scale * (1.0 - np.exp(-excess / scale))
    held[start:] = time[start] + hold * saturating + (1.0 - hold) * excess
    return held


@dataclass(frozen=True, slots=True)
class CleanLogs:
    """Per-step log values of a run before noise, and the log-sd of its train noise."""

    train: FloatArray
    val: FloatArray
    grad: FloatArray
    train_sd: FloatArray
    lr: FloatArray  # the learning rate itself (not a log)


def clean_logs(p: BaseParams, ov: Overlay, lr_healthy: FloatArray) -> CleanLogs:
    """Combine the healthy curves and the overlay into noise-free log values."""
    n = p.n_steps
    lr_rel = lr_healthy / p.lr_peak
    time = np.cumsum(lr_rel * ov.rate)
    lr = lr_healthy * ov.lr_factor
    moving = np.maximum.accumulate(np.where(ov.rate > 0, np.arange(n), 0))
    level = p.floor_frac * (1.0 + p.lr_beta * lr_memory(lr / p.lr_peak, n)[moving])
    reducible = 1.0 - p.floor_frac
    train = p.init_loss * (level + reducible * _progress(p, ov, time, lr_rel))
    val_left = _progress(p, ov, _held(time, ov.val_hold_from, ov.val_hold), lr_rel)
    val_level = level
    if ov.val_hold_from is not None:  # generalisation stopped: LR decay no longer helps either
        held_level = level[np.minimum(np.arange(n), ov.val_hold_from)]
        val_level = ov.val_hold * held_level + (1.0 - ov.val_hold) * level
    gap = 1.0 + p.gap0 + p.gap1 * (1.0 - val_left)
    val = p.init_loss * (val_level + reducible * val_left) * gap
    grad = math.log(p.grad_level) + p.grad_power * np.log(train / train[0])
    sd = p.sigma * (train / train[0]) ** (-p.noise_eta) * ov.noise
    return CleanLogs(
        train=np.log(train) + ov.train,
        val=np.log(val) + ov.val,
        grad=grad + ov.grad,
        train_sd=sd,
        lr=lr,
    )


def build_curves(p: BaseParams, ov: Overlay, clean: CleanLogs, rng: np.random.Generator) -> Curves:
    """Add the noise to the clean log values; return the per-step curves."""
    n = p.n_steps
    # noise: always drawn in this order, so a run and its healthy twin share it
    z_train = ar1_noise(rng, n, phi=p.noise_phi, df=p.noise_df)
    z_val = rng.standard_normal(n)
    z_grad = ar1_noise(rng, n, phi=p.grad_phi)
    n_out = int(rng.poisson(p.grad_outlier_rate * n))
    out_at = rng.integers(0, n, n_out)
    out_size = rng.uniform(math.log(2.0), math.log(5.0), n_out)
    inf_first = bool(rng.random() < 0.3)
    log_train = clean.train + clean.train_sd * z_train
    log_val = clean.val + p.val_sigma * z_val
    log_grad = clean.grad + p.grad_sigma * z_grad
    np.add.at(log_grad, out_at, out_size)
    with np.errstate(over="ignore"):
        train, val, grad = np.exp(log_train), np.exp(log_val), np.exp(log_grad)
    if ov.nan_from is not None:
        for array in (train, val, grad):
            array[ov.nan_from :] = np.nan
        if inf_first:
            train[ov.nan_from] = np.inf
    return Curves(train=train, val=val, lr=clean.lr, grad=grad)


def _block_means(values: FloatArray, width: int) -> FloatArray:
    m = len(values) // width
    return np.asarray(values[: m * width].reshape(m, width).mean(axis=1), dtype=float)


def _series(
    curves: Curves, *, log_every: int, val_every: int, keras: bool
) -> list[tuple[FloatArray, FloatArray]]:
    """Return (steps, values) of train loss, val loss, LR and grad norm as logged."""
    if keras:  # one row per epoch of ``val_every`` steps; epochs are 0-based
        train = _block_means(curves.train, val_every)
        epochs = np.arange(len(train), dtype=float)
        at_end = slice(val_every - 1, len(train) * val_every, val_every)
        return [(epochs, train), (epochs, curves.val[at_end]), (epochs, curves.lr[at_end])]
    train = _block_means(curves.train, log_every)
    steps = np.arange(1, len(train) + 1, dtype=float) * log_every
    val_steps = np.arange(val_every, len(curves.val) + 1, val_every, dtype=float)
    at_log = slice(log_every - 1, len(train) * log_every, log_every)
    return [
        (steps, train),
        (val_steps, curves.val[val_every - 1 :: val_every]),
        (steps, curves.lr[at_log]),
        (steps, curves.grad[at_log]),
    ]


def log_records(
    curves: Curves, p: BaseParams, *, naming: str, intervals: tuple[int, int], keep: set[Role]
) -> tuple[pd.DataFrame, StepUnit, dict[str, Role]]:
    """Log the curves as records (sorted by step), the step unit and the role hints.

    The train loss is the mean over each logging interval (as the HF Trainer and
    Lightning's epoch aggregation report it); LR and grad norm are the values at the
    logged step; the validation loss is the value at every ``val_every``-th step.
    ``intervals`` is ``(log_every, val_every)``.
    """
    keras = naming == "keras"
    log_every, val_every = intervals
    series = _series(curves, log_every=log_every, val_every=val_every, keras=keras)
    picked = [
        (name, role, s)
        for name, role, s in zip(NAMINGS[naming], _ROLES, series, strict=False)
        if name is not None and role in keep
    ]
    steps = np.concatenate([s[0] for _, _, s in picked])
    order = np.argsort(steps, kind="stable")
    counts = [len(s[0]) for _, _, s in picked]
    names = np.repeat(np.array([name for name, _, _ in picked], dtype=object), counts)[order]
    steps = steps[order]
    values = np.concatenate([s[1] for _, _, s in picked])[order]
    if keras:
        epoch, wall = steps, np.full(len(steps), np.nan)
    else:
        epoch = steps / p.steps_per_epoch
        epoch = np.floor(epoch) if naming == "lightning" else epoch
        wall = _START_TIME + steps * p.sec_per_step
    columns = (names, steps, epoch, wall, values, np.arange(1, len(steps) + 1))
    records = pd.DataFrame(dict(zip(RECORD_COLUMNS, columns, strict=True)))
    hints = {str(name): role for name, role, _ in picked}
    return records, ("epoch" if keras else "step"), hints
