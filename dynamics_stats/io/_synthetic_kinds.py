"""Inject the seven problem kinds into a synthetic run, at known steps.

Each injector reads a `Context` (the healthy run's parameters and progress), edits an
`Overlay` (log-scale additions and progress changes applied when the curves are built) and
returns its *candidates* -- every kind the injection may show, with the step where it
starts (sometimes more than one: exploding gradients usually come with loss spikes) -- and
the parameters it drew. Whether a candidate becomes a label is decided afterwards by the
numeric rules of `dynamics_stats.io._synthetic_labels`, so a weak (borderline) injection
can be a negative. ``strength`` scales every injected effect on the log scale (1 = the
sizes given in the Notes of `dynamics_stats.io.synthetic`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dynamics_stats.core.types import FloatArray, JSONValue
from dynamics_stats.io._synthetic_base import BaseParams, log_uniform

__all__ = ["INJECTORS", "Context", "Overlay", "add_spikes", "spike_height"]

LN10 = math.log(10.0)


@dataclass(frozen=True, slots=True)
class Context:
    """What an injector may read: the healthy run and the options."""

    params: BaseParams
    progress: FloatArray  # healthy fraction of the reducible loss left, per step (1 -> small)
    strength: float
    log_every: int
    rng: np.random.Generator

    @property
    def n(self) -> int:
        """Number of steps."""
        return self.params.n_steps


@dataclass(slots=True)
class Overlay:
    """Changes to the healthy run, filled in by injectors (all per step, log scale)."""

    n: int
    rate: FloatArray = field(init=False)  # multiplies the progress in LR-time
    train: FloatArray = field(init=False)  # added to log train loss
    val: FloatArray = field(init=False)  # added to log validation loss
    grad: FloatArray = field(init=False)  # added to log grad norm
    noise: FloatArray = field(init=False)  # multiplies the train-noise sd
    lr_factor: float = 1.0  # multiplies the logged LR
    progress_frac: float | None = None  # LR far too low: this fraction of healthy progress
    val_hold_from: int | None = None  # validation stops improving from this index
    val_hold: float = 1.0  # fraction of validation progress that stops there (0..1)
    nan_from: int | None = None  # train loss and grad norm non-finite from this index

    def __post_init__(self) -> None:
        self.rate = np.ones(self.n)
        self.train = np.zeros(self.n)
        self.val = np.zeros(self.n)
        self.grad = np.zeros(self.n)
        self.noise = np.ones(self.n)

    def add(self, other: Overlay) -> None:
        """Add the log-scale changes of ``other`` and multiply by its rates and noise."""
        self.train += other.train
        self.val += other.val
        self.grad += other.grad
        self.rate *= other.rate
        self.noise *= other.noise


Injected = tuple[dict[str, int], dict[str, JSONValue]]


def _onset(ctx: Context, low: float, high: float) -> int:
    return int(ctx.rng.uniform(low, high) * ctx.n)


def _ramp(ctx: Context, start: int, length: float) -> FloatArray:
    """0 before ``start``, rising linearly to 1 over ``length`` steps, 1 after."""
    idx = np.arange(ctx.n, dtype=float)
    return np.asarray(np.clip((idx - start + 1) / max(length, 1.0), 0.0, 1.0), dtype=float)


def spike_height(ctx: Context) -> float:
    """Log-height of one loss spike: 15-40 noise sd, within [0.3, 3], times the strength."""
    height = min(max(ctx.params.sigma * ctx.rng.uniform(15.0, 40.0), 0.3), 3.0)
    return float(ctx.strength * height)


def add_spikes(ctx: Context, ov: Overlay, start: int, stop: int, n_spikes: int) -> list[int]:
    """Add spikes that recover, one in the middle half of each of ``n_spikes`` bins."""
    edges = np.linspace(start, stop, n_spikes + 1)
    steps: list[int] = []
    min_recovery = 2.0 * ctx.log_every - 1.0  # so the interval means show the spike
    max_recovery = max(min_recovery + 1.0, 0.005 * ctx.n)
    for left, right in zip(edges[:-1], edges[1:], strict=True):
        i = int(ctx.rng.uniform(left + 0.25 * (right - left), left + 0.75 * (right - left)))
        height = spike_height(ctx)
        recovery = ctx.rng.uniform(min_recovery, max_recovery)
        span = np.arange(i, min(ctx.n, i + int(10 * recovery) + 2))
        shape = np.exp(-(span - i) / recovery)
        ov.train[span] += height * shape
        ov.grad[span] += min(0.5 * height, math.log(4.0)) * shape
        steps.append(i + 1)
    return steps


def overfitting(ctx: Context, ov: Overlay) -> Injected:
    """Make validation stop improving (mostly rising) while training keeps improving."""
    start = _onset(ctx, 0.3, 0.7)
    mode = "rise" if ctx.rng.random() < 0.75 else "plateau"
    x = np.clip((np.arange(ctx.n) - start) / max(ctx.n - start, 1), 0.0, None)
    power = ctx.rng.uniform(1.0, 2.0)
    rise = ctx.strength * (
        ctx.rng.uniform(0.15, 0.5) if mode == "rise" else ctx.rng.uniform(0, 0.03)
    )
    memorise = ctx.strength * ctx.rng.uniform(0.1, 0.3)
    ov.val_hold_from = start
    ov.val_hold = min(1.0, ctx.strength)
    ov.val += rise * x**power
    ov.train -= memorise * x
    config: dict[str, JSONValue] = {"overfit_mode": mode, "overfit_rise": rise}
    config["overfit_train_drop"] = memorise
    return {"overfitting": start + 1}, config


def _weaken(ctx: Context, left: float) -> float:
    """Scale the log gap between ``left`` and the healthy end by the strength.

    ``left`` is a fraction of the initial loss (floor included) that the run stays at; the
    result stays at the healthy end times ``(left / healthy end) ** strength``, at most 1.
    """
    floor = ctx.params.floor_frac
    end = floor + (1.0 - floor) * float(ctx.progress[-1])
    return float(min(1.0, end * (left / end) ** ctx.strength))


def stalled(ctx: Context, ov: Overlay) -> Injected:
    """Set the LR far too low, or stop progress early, far above the reachable loss."""
    reducible = 1.0 - ctx.params.floor_frac
    done = 1.0 - ctx.progress
    if ctx.rng.random() < 0.5:
        ov.lr_factor = 10.0 ** -(ctx.rng.uniform(2.0, 4.0) * ctx.strength)
        left = _weaken(ctx, 1.0 - reducible * ctx.rng.uniform(0.0, 0.05) * done[-1])
        ov.progress_frac = (1.0 - left) / (reducible * done[-1])
        config: dict[str, JSONValue] = {"stall_mode": "lr_too_low", "stall_lr_factor": ov.lr_factor}
        config["stall_progress_frac"] = ov.progress_frac
        return {"stalled": 1}, config
    left = _weaken(ctx, 1.0 - reducible * ctx.rng.uniform(0.1, 0.5) * done[-1])
    target = (1.0 - left) / reducible
    start = min(int(np.searchsorted(done, target)), ctx.n - 2)
    ov.rate[start:] = 0.0
    ov.grad[start:] += math.log(ctx.rng.uniform(0.1, 0.5))
    return {"stalled": start + 1}, {"stall_mode": "stuck", "stall_done_frac": float(target)}


def divergence(ctx: Context, ov: Overlay) -> Injected:
    """Grow the loss by one to three orders of magnitude for good, or turn it NaN."""
    start = _onset(ctx, 0.3, 0.9)
    length = ctx.rng.uniform(0.02, 1.0) * (ctx.n - start)
    growth = ctx.strength * ctx.rng.uniform(3.0, 7.0)
    power = ctx.rng.uniform(1.0, 2.0)
    curve = growth * _ramp(ctx, start, length) ** power
    ov.train += curve
    ov.val += curve
    ov.grad += curve * ctx.rng.uniform(0.8, 1.5)
    config: dict[str, JSONValue] = {"diverge_growth": growth, "diverge_length": length}
    if ctx.rng.random() < 0.4:
        ov.nan_from = min(ctx.n - 1, start + int(ctx.rng.uniform(0.3, 1.0) * length))
        config["diverge_nan_step"] = ov.nan_from + 1
    # the grad norm grows with the loss: exploding too, if it reaches 10x (checked later)
    return {"divergence": start + 1, "exploding_gradients": start + 1}, config


def loss_spikes(ctx: Context, ov: Overlay) -> Injected:
    """Add 1-6 spikes far outside the noise, each recovering within ~10 recovery times."""
    start = _onset(ctx, 0.05, 0.5)
    n_spikes = int(ctx.rng.integers(1, 7))
    steps = add_spikes(ctx, ov, start, int(0.95 * ctx.n), n_spikes)
    return {"loss_spikes": steps[0]}, {"spike_steps": list(steps)}


def oscillation(ctx: Context, ov: Overlay) -> Injected:
    """Add persistent oscillation or high volatility (LR at the edge of stability)."""
    start = 0 if ctx.rng.random() < 0.3 else _onset(ctx, 0.05, 0.5)
    mode = "periodic" if ctx.rng.random() < 0.5 else "volatile"
    sigma = ctx.params.sigma
    on = np.arange(ctx.n) >= start
    slowdown = ctx.strength * (1.0 - ctx.rng.uniform(0.0, 0.3))  # to 0-30 % at strength 1
    ov.rate[on] *= max(0.0, 1.0 - slowdown)  # stalled too, if it nearly stops
    config: dict[str, JSONValue] = {"oscillation_mode": mode}
    if mode == "periodic":
        low = max(6.0, 4.0 * ctx.log_every)
        period = log_uniform(ctx.rng, low, max(low * 1.5, ctx.n / 50.0))
        amp = ctx.strength * min(max(ctx.rng.uniform(3.0, 6.0) * sigma, 0.1), 1.0)
        wave = amp * np.sin(2 * np.pi * (np.arange(ctx.n) - start) / period) * on
        ov.train += wave
        ov.grad += 0.5 * wave
        ov.noise[on] *= ctx.rng.uniform(1.5, 3.0) ** ctx.strength
        config |= {"oscillation_period": period, "oscillation_amplitude": amp}
    else:
        size = max(2.5, min(ctx.rng.uniform(3.0, 6.0), 0.6 / sigma))  # at strength 1
        mult = min(size**ctx.strength, max(size, 0.6 / sigma))
        ov.noise[on] *= mult
        ov.grad[on] += ctx.rng.normal(0.0, ctx.params.grad_sigma * 2.0, int(on.sum()))
        config["oscillation_noise_mult"] = mult
    return {"oscillation": start + 1, "stalled": start + 1}, config


def exploding_gradients(ctx: Context, ov: Overlay) -> Injected:
    """Raise the grad norm 10-1000x for a period, usually with loss spikes."""
    start = _onset(ctx, 0.1, 0.8)
    if ctx.rng.random() < 0.3:
        stop = ctx.n
    else:
        length = ctx.rng.uniform(max(20.0, 0.01 * ctx.n), max(21.0, 0.15 * ctx.n))
        stop = min(ctx.n, start + int(length))
    jump = ctx.strength * ctx.rng.uniform(1.2 * LN10, 3.0 * LN10)
    ov.grad[start:stop] += jump + ctx.rng.normal(0.0, 0.3, stop - start)
    config: dict[str, JSONValue] = {"explode_jump": jump, "explode_stop_step": stop}
    onsets = {"exploding_gradients": start + 1}
    if ctx.rng.random() < 0.7 and stop - start >= 4:
        room = max(1, int((stop - start) / (0.08 * ctx.n)))  # spikes >= 4 % of the run apart
        steps = add_spikes(ctx, ov, start, stop, min(int(ctx.rng.integers(1, 4)), room))
        onsets["loss_spikes"] = steps[0]
        config["spike_steps"] = list(steps)
    return onsets, config


def vanishing_gradients(ctx: Context, ov: Overlay) -> Injected:
    """Cut the grad norm to 1e-3..1e-6 of healthy for a long period, with a flat loss."""
    start = 0 if ctx.rng.random() < 0.3 else _onset(ctx, 0.05, 0.5)
    if ctx.rng.random() < 0.7:
        stop = ctx.n
    else:
        stop = min(ctx.n, start + int(ctx.rng.uniform(0.3, 0.45) * ctx.n))
    drop = ctx.strength * ctx.rng.uniform(3.0 * LN10, 6.0 * LN10)
    fall = ctx.rng.uniform(0.0, 0.02) * ctx.n
    shape = _ramp(ctx, start, fall)
    shape[stop:] = 0.0
    ov.grad -= drop * shape
    # progress follows the grad norm; below 1e-3 of it (at strength 1: always) it stops
    rate = np.exp(-drop * shape[start:stop])
    ov.rate[start:stop] *= np.where(rate <= 1e-3, 0.0, rate)
    onsets = {"vanishing_gradients": start + 1, "stalled": start + 1}
    return onsets, {"vanish_drop": drop, "vanish_stop_step": stop}


INJECTORS: dict[str, Callable[[Context, Overlay], Injected]] = {
    "overfitting": overfitting,
    "stalled": stalled,
    "divergence": divergence,
    "loss_spikes": loss_spikes,
    "oscillation": oscillation,
    "exploding_gradients": exploding_gradients,
    "vanishing_gradients": vanishing_gradients,
}
