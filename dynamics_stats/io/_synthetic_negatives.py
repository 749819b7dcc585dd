"""Hard negatives: healthy runs that look superficially like one of the problem kinds.

A hard negative first changes the healthy parameters (`adjust_params`: schedule, noise,
curve shape) and may then add a benign feature to the run (`add_feature`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dynamics_stats.core.types import JSONValue
from dynamics_stats.io._synthetic_base import BaseParams, log_uniform
from dynamics_stats.io._synthetic_kinds import Context, Overlay

__all__ = ["HARD_NEGATIVES", "add_feature", "adjust_params"]

HARD_NEGATIVES: tuple[str, ...] = (
    "warmup_bump",
    "step_decay_drop",
    "noisy_small_batch",
    "converged_plateau",
    "cosine_restart",
    "lr_drop_recovery",
    "slow_but_steady",
    "grad_norm_outlier",
)


def adjust_params(name: str, p: BaseParams, rng: np.random.Generator) -> BaseParams:
    """Return the healthy parameters changed as the hard negative ``name`` needs."""
    change: dict[str, object] = {}
    if name == "warmup_bump":
        change = {"warmup_frac": rng.uniform(0.02, 0.08)}
        if p.schedule == "constant":
            change["schedule"] = "warmup_cosine"
    elif name == "step_decay_drop":
        change = {"schedule": "step", "step_gamma": rng.uniform(0.05, 0.2)}
        change["lr_beta"] = rng.uniform(0.3, 0.6)
    elif name == "noisy_small_batch":
        change = {"sigma": rng.uniform(0.3, 0.6), "noise_df": rng.uniform(4.0, 6.0)}
        change["grad_sigma"] = rng.uniform(0.3, 0.5)
    elif name == "converged_plateau":
        change = {"shape": "power", "alpha": rng.uniform(1.5, 3.0), "gap1": 0.0}
        change |= {"tau_frac": rng.uniform(0.001, 0.005), "lr_beta": rng.uniform(0.0, 0.02)}
        change["schedule"] = "constant"
    elif name == "cosine_restart":
        change = {"schedule": "cosine_restart", "lr_beta": rng.uniform(0.15, 0.4)}
        change["final_lr_frac"] = rng.uniform(0.0, 0.05)
    elif name == "lr_drop_recovery":
        change = {"schedule": "plateau_drop", "step_gamma": rng.uniform(0.05, 0.2)}
        change |= {"lr_beta": rng.uniform(0.3, 0.6), "shape": "power"}
        change |= {"alpha": rng.uniform(1.0, 2.0), "tau_frac": rng.uniform(0.002, 0.01)}
    elif name == "slow_but_steady":
        change = {"shape": "exp", "tau_frac": rng.uniform(1.0, 3.0), "schedule": "constant"}
        change |= {"floor_frac": rng.uniform(0.05, 0.3), "warmup_frac": 0.0}
    return dataclasses.replace(p, **change)  # type: ignore[arg-type]


def add_feature(name: str, ctx: Context, ov: Overlay) -> dict[str, JSONValue]:
    """Add the benign feature of hard negative ``name``; return what was drawn."""
    if name == "warmup_bump":
        warm = max(ctx.params.warmup_frac * ctx.n, 4.0)
        left = ctx.params.floor_frac + (1.0 - ctx.params.floor_frac) * ctx.progress
        # rise 0.2-0.5 in log above the loss at mid warm-up, whatever the fall since then
        fall = math.log(left[int(warm / 2) - 1] / left[int(warm) - 1])
        height = ctx.rng.uniform(0.2, 0.5) + fall
        t = np.arange(1, ctx.n + 1) / warm
        bump = height * np.exp(-0.5 * ((t - 1.0) / 0.25) ** 2)
        ov.train += bump
        ov.val += bump
        ov.grad += bump
        return {"bump_height": height, "bump_peak_step": int(round(warm))}
    if name == "grad_norm_outlier":
        step = int(ctx.rng.uniform(0.1, 0.95) * ctx.n)
        factor = log_uniform(ctx.rng, 10.0, 50.0)
        ov.grad[step] += math.log(factor)
        return {"outlier_step": step + 1, "outlier_factor": factor}
    return {}
