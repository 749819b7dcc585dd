"""Healthy building blocks of synthetic runs: parameters, LR schedules, curves and noise.

Everything here works on per-step arrays indexed ``0 .. n_steps - 1`` (index ``i`` is
optimizer step ``i + 1``) and in base loss units (`make_run` multiplies by ``loss_scale``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dynamics_stats.core.types import FloatArray

__all__ = [
    "BaseParams",
    "ar1_noise",
    "decay",
    "draw_base",
    "log_uniform",
    "lr_schedule",
]

SCHEDULES: tuple[str, ...] = ("constant", "warmup_cosine", "step", "linear")


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """Draw one number whose logarithm is uniform on ``[log low, log high]``."""
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


@dataclass(frozen=True, slots=True)
class BaseParams:
    """Parameters of a healthy run (see the Notes of `dynamics_stats.io.synthetic`)."""

    n_steps: int
    shape: str  # "power" or "exp"
    init_loss: float  # loss at step 0 in base units
    floor_frac: float  # irreducible loss as a fraction of init_loss
    alpha: float  # power-law exponent
    tau_frac: float  # time constant, as a fraction of n_steps (in effective LR-time)
    lr_beta: float  # extra loss proportional to the current LR, as a fraction of the floor
    schedule: str
    lr_peak: float
    warmup_frac: float
    final_lr_frac: float
    step_gamma: float  # LR factor at each milestone of the "step" schedule
    n_cycles: int  # cycles of "cosine_restart"
    drop_frac: float  # where "plateau_drop" cuts the LR
    sigma: float  # log-scale sd of per-step train-loss noise
    noise_df: float  # Student-t degrees of freedom of the innovations
    noise_phi: float  # AR(1) coefficient of the noise
    noise_eta: float  # noise sd scales as (loss / initial loss) ** -eta
    val_sigma: float  # log-scale sd of validation noise
    gap0: float  # generalisation gap at the start (relative)
    gap1: float  # growth of the gap with learning progress
    grad_level: float  # initial gradient norm in base units
    grad_power: float  # log grad norm follows grad_power * log(loss / initial loss)
    grad_sigma: float
    grad_phi: float
    grad_outlier_rate: float  # benign grad-norm outliers per step
    steps_per_epoch: int
    sec_per_step: float


def draw_base(rng: np.random.Generator, n_steps: int) -> BaseParams:
    """Draw the parameters of a healthy run of ``n_steps`` steps."""
    shape = "power" if rng.random() < 0.7 else "exp"
    schedule = str(rng.choice(SCHEDULES, p=[0.2, 0.4, 0.2, 0.2]))
    warmup = 0.0 if schedule == "constant" and rng.random() < 0.5 else rng.uniform(0.0, 0.08)
    return BaseParams(
        n_steps=n_steps,
        shape=shape,
        init_loss=log_uniform(rng, 0.5, 11.0),
        floor_frac=rng.uniform(0.05, 0.6),
        alpha=rng.uniform(0.4, 1.5) if shape == "power" else 1.0,
        tau_frac=log_uniform(rng, 0.003, 0.08) if shape == "power" else rng.uniform(0.08, 0.3),
        lr_beta=rng.uniform(0.02, 0.15),
        schedule=schedule,
        lr_peak=log_uniform(rng, 1e-5, 3e-3),
        warmup_frac=float(warmup),
        final_lr_frac=rng.uniform(0.0, 0.1),
        step_gamma=rng.uniform(0.1, 0.3),
        n_cycles=int(rng.integers(2, 5)),
        drop_frac=rng.uniform(0.4, 0.7),
        sigma=log_uniform(rng, 0.02, 0.2),
        noise_df=rng.uniform(4.5, 15.0),
        noise_phi=rng.uniform(0.0, 0.3),
        noise_eta=rng.uniform(-0.1, 0.2),
        val_sigma=rng.uniform(0.002, 0.02),
        gap0=rng.uniform(0.0, 0.1),
        gap1=rng.uniform(0.0, 0.1),
        grad_level=log_uniform(rng, 0.1, 10.0),
        grad_power=rng.uniform(0.2, 1.0),
        grad_sigma=rng.uniform(0.04, 0.25),
        grad_phi=rng.uniform(0.0, 0.5),
        grad_outlier_rate=rng.uniform(0.0, 1e-3),
        steps_per_epoch=max(1, n_steps // int(rng.integers(1, 21))),
        sec_per_step=log_uniform(rng, 0.02, 2.0),
    )


def _cosine(progress: FloatArray, final: float) -> FloatArray:
    return final + (1.0 - final) * 0.5 * (1.0 + np.cos(np.pi * np.clip(progress, 0.0, 1.0)))


def lr_schedule(p: BaseParams) -> FloatArray:
    """Return the learning rate at every step (linear warm-up, then the schedule)."""
    n = p.n_steps
    t = np.arange(1, n + 1, dtype=float)
    warm = max(int(p.warmup_frac * n), 0)
    after = np.clip((t - warm) / max(n - warm, 1), 0.0, 1.0)
    if p.schedule == "warmup_cosine":
        rel = _cosine(after, p.final_lr_frac)
    elif p.schedule == "linear":
        rel = 1.0 - (1.0 - p.final_lr_frac) * after
    elif p.schedule == "step":
        rel = p.step_gamma ** ((t >= 0.5 * n).astype(float) + (t >= 0.75 * n))
    elif p.schedule == "cosine_restart":
        cycles = np.minimum(after * p.n_cycles, p.n_cycles - 1e-9)  # no restart at the end
        rel = _cosine(cycles - np.floor(cycles), p.final_lr_frac)
    elif p.schedule == "plateau_drop":
        rel = np.where(t >= p.drop_frac * n, p.step_gamma, 1.0)
    else:
        rel = np.ones(n)
    if warm > 0:
        rel = np.where(t <= warm, t / warm, rel)
    return np.asarray(p.lr_peak * rel, dtype=float)


def decay(p: BaseParams, time: FloatArray) -> FloatArray:
    """Fraction of the reducible loss left after effective time ``time`` (1 at 0)."""
    tau = max(p.tau_frac * p.n_steps, 1.0)
    if p.shape == "exp":
        return np.asarray(np.exp(-time / tau), dtype=float)
    return np.asarray((1.0 + time / tau) ** -p.alpha, dtype=float)


def lr_memory(lr_rel: FloatArray, n_steps: int) -> FloatArray:
    """Exponential moving average of the relative LR (the LR-driven part of the loss)."""
    span = max(5.0, n_steps / 500.0)
    return np.asarray(pd.Series(lr_rel).ewm(span=span, adjust=False).mean().to_numpy(float))


def ar1_noise(
    rng: np.random.Generator, n: int, *, phi: float, df: float | None = None
) -> FloatArray:
    """Unit-variance AR(1) noise with Student-t (or normal) innovations clipped at 6 sd.

    The AR filter is applied as a truncated convolution (weights ``phi**k`` down to
    1e-8), which is exact to that tolerance and fast for long runs.
    """
    if df is None:
        shocks = rng.standard_normal(n)
    else:
        shocks = rng.standard_t(df, n) * math.sqrt((df - 2.0) / df)
    shocks = np.clip(shocks, -6.0, 6.0)
    if phi <= 1e-3:
        return np.asarray(shocks, dtype=float)
    n_lags = int(math.ceil(math.log(1e-8) / math.log(phi))) + 1
    kernel = phi ** np.arange(n_lags)
    kernel /= math.sqrt(float(np.sum(kernel**2)))
    return np.asarray(np.convolve(shocks, kernel)[:n], dtype=float)
