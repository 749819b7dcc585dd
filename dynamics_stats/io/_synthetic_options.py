"""Options: those of `make_run` (checked), its flat truth config, and corpus draws."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from dynamics_stats.core._checks import check_choice, check_float, check_int
from dynamics_stats.core.types import JSONValue
from dynamics_stats.io._synthetic_base import BaseParams, log_uniform
from dynamics_stats.io._synthetic_build import NAMINGS
from dynamics_stats.io._synthetic_negatives import HARD_NEGATIVES

__all__ = ["KINDS", "SyntheticRunOptions", "draw_options", "flat_config"]

#: The seven problem kinds (same names and order as ``detectors.base.CORE_KINDS``).
KINDS: tuple[str, ...] = (
    "overfitting",
    "stalled",
    "divergence",
    "loss_spikes",
    "oscillation",
    "exploding_gradients",
    "vanishing_gradients",
)
_GRADIENT_KINDS = frozenset({"exploding_gradients", "vanishing_gradients"})


@dataclass(frozen=True, slots=True)
class SyntheticRunOptions:
    """The options of `make_run`, checked."""

    kind: str | None
    n_steps: int
    seed: int
    log_every: int
    val_every: int | None
    strength: float
    hard_negative: str | None
    loss_scale: float
    naming: str

    def __post_init__(self) -> None:
        if self.kind is not None:
            check_choice(self, "kind", KINDS)
        if self.hard_negative is not None:
            check_choice(self, "hard_negative", HARD_NEGATIVES)
        check_choice(self, "naming", tuple(NAMINGS))
        check_int(self, "n_steps", low=20)
        check_int(self, "seed", low=0)
        check_int(self, "log_every", low=1, high=self.n_steps // 2)
        if self.val_every is not None:
            check_int(self, "val_every", low=1, high=self.n_steps // 2)
        check_float(self, "strength", low=0.0, low_open=True)
        check_float(self, "loss_scale", low=0.0, low_open=True)


def flat_config(
    opts: SyntheticRunOptions, val_every: int, with_grad: bool, with_lr: bool, params: BaseParams
) -> dict[str, JSONValue]:
    """Return the options, the resolved intervals and the healthy parameters as one dict."""
    config: dict[str, JSONValue] = {f.name: getattr(opts, f.name) for f in fields(opts)}
    config |= {"val_every": val_every, "with_grad_norm": with_grad, "with_lr": with_lr}
    for f in fields(params):
        value = getattr(params, f.name)
        config[f.name] = float(value) if isinstance(value, (float, np.floating)) else value
    return config


def draw_options(rng: np.random.Generator) -> dict[str, Any]:
    """Draw the options of one corpus run (see `make_corpus` for the distributions)."""
    kind = None if rng.random() < 0.3 else str(rng.choice(KINDS))
    negative_p = 0.5 if kind is None else 0.1
    negative = str(rng.choice(HARD_NEGATIVES)) if rng.random() < negative_p else None
    n_steps = int(round(log_uniform(rng, 100.0, 100_000.0)))
    intervals = [k for k in (1, 1, 1, 2, 5, 10, 20, 50, 100) if n_steps // k >= 50]
    keras_ok = kind not in _GRADIENT_KINDS and negative != "grad_norm_outlier"
    namings = ["lightning", "hf", "slash"] + (["keras"] if keras_ok else [])
    return {
        "kind": kind,
        "n_steps": n_steps,
        "seed": int(rng.integers(0, 2**31 - 1)),
        "log_every": int(rng.choice(intervals)),
        "strength": log_uniform(rng, 0.2, 2.5),
        "hard_negative": negative,
        "with_grad_norm": kind in _GRADIENT_KINDS or bool(rng.random() < 0.75),
        "with_lr": bool(rng.random() < 0.85),
        "loss_scale": 1.0 if rng.random() < 0.2 else log_uniform(rng, 1e-3, 1e3),
        "naming": str(rng.choice(namings)),
    }
