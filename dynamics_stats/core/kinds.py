"""The seven problem kinds every analysis gives a probability for."""

from __future__ import annotations

__all__ = ["CORE_KINDS"]

#: The seven problem kinds every analysis gives a probability for, in report order.
CORE_KINDS: tuple[str, ...] = (
    "overfitting",
    "stalled",
    "divergence",
    "loss_spikes",
    "oscillation",
    "exploding_gradients",
    "vanishing_gradients",
)
