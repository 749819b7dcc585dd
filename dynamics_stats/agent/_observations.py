"""`Observations`: the plain facts about a run that recommendations quote (no statistics)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.curves.lr_response import LRResponse
from dynamics_stats.detectors.base import Evidence

__all__ = ["Observations", "observe"]

_LR_HPARAM_KEYS = ("learning_rate", "lr", "max_lr", "peak_lr", "lr0")


@dataclass(frozen=True, slots=True)
class Observations:
    """What the policy may quote besides the findings.

    Parameters
    ----------
    facts : mapping of str to mapping of str to float
        For every kind a detector emitted, the numbers of its strongest evidence (with
        ``score``), also when it did not become a finding (e.g. ``clipping_recommendation``).
    val_steps : tuple of int
        Steps at which the validation curve was logged.
    grad_norm_range : tuple of (float, float) or None
        Smallest and largest finite, positive gradient norm logged.
    lr_peak, lr_last : float or None
        Largest and last logged learning rate, or the configured one when none is logged.
    lr_response : LRResponse or None
        How the loss slope related to the learning rate over the run.
    clip_quantile : float
        The quantile of stable gradient norms the clipping detector recommends.
    """

    facts: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    val_steps: tuple[int, ...] = ()
    grad_norm_range: tuple[float, float] | None = None
    lr_peak: float | None = None
    lr_last: float | None = None
    lr_response: LRResponse | None = None
    clip_quantile: float = 0.95

    def fact(self, kind: str, name: str) -> float | None:
        """Return the finite number ``name`` of ``kind``'s evidence, or None."""
        value = self.facts.get(kind, {}).get(name)
        return value if value is not None and math.isfinite(value) else None

    def nearest_val_step(self, step: int) -> int:
        """Return the logged validation step closest to ``step`` (``step`` if none)."""
        if not self.val_steps:
            return step
        return min(self.val_steps, key=lambda s: (abs(s - step), s))


def _facts(evidence: tuple[Evidence, ...]) -> dict[str, Mapping[str, float]]:
    best: dict[str, Evidence] = {}
    for item in evidence:
        if item.kind not in best or item.score > best[item.kind].score:
            best[item.kind] = item
    return {
        kind: MappingProxyType({"score": item.score, **dict(item.values)})
        for kind, item in best.items()
    }


def _configured_lr(artifacts: TrainingArtifacts) -> float | None:
    for key, value in artifacts.hparams.items():
        leaf = key.rsplit(".", 1)[-1].lower()
        if leaf not in _LR_HPARAM_KEYS or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            return float(value)
    return None


def observe(
    artifacts: TrainingArtifacts,
    evidence: tuple[Evidence, ...],
    *,
    lr_response: LRResponse | None = None,
    clip_quantile: float = 0.95,
) -> Observations:
    """Collect the facts recommendations quote from a run and its evidence.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    evidence : tuple of Evidence
        Everything the detectors emitted.
    lr_response : LRResponse or None, default=None
        The loss-slope / learning-rate relation.
    clip_quantile : float, default=0.95
        The clipping detector's ``stable_quantile``.

    Returns
    -------
    Observations
    """
    val = artifacts.get("val_loss")
    val = val if val is not None else artifacts.get("val_metric")
    val_steps = () if val is None else tuple(int(s) for s in val.steps)
    norm, norm_range = artifacts.get("grad_norm"), None
    if norm is not None:
        ok = norm.values[np.isfinite(norm.values) & (norm.values > 0)]
        norm_range = (float(ok.min()), float(ok.max())) if len(ok) else None
    lr = artifacts.get("learning_rate")
    lr_values = np.empty(0) if lr is None else lr.values[np.isfinite(lr.values) & (lr.values > 0)]
    configured = _configured_lr(artifacts)
    return Observations(
        facts=MappingProxyType(_facts(evidence)),
        val_steps=val_steps,
        grad_norm_range=norm_range,
        lr_peak=float(lr_values.max()) if len(lr_values) else configured,
        lr_last=float(lr_values[-1]) if len(lr_values) else configured,
        lr_response=lr_response if lr_response is not None and lr_response.available else None,
        clip_quantile=clip_quantile,
    )
