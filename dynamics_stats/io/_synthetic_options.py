"""The checked options of `make_run`, and the flat config recorded in its truth."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from dynamics_stats.core._checks import check_choice, check_float, check_int
from dynamics_stats.core.types import JSONValue
from dynamics_stats.io._synthetic_base import BaseParams
from dynamics_stats.io._synthetic_build import NAMINGS
from dynamics_stats.io._synthetic_negatives import HARD_NEGATIVES

__all__ = ["KINDS", "SyntheticRunOptions", "flat_config"]

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
