"""`ClippingDetector`: whether gradient clipping fires at a threshold that fits the norms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.types import FloatArray
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import finite_part, trailing_median_mad, window_steps
from dynamics_stats.detectors.base import Evidence

__all__ = ["ClippingDetector"]

_HPARAM_KEYS = ("gradient_clip_val", "max_grad_norm", "clip_grad_norm", "grad_clip", "clip_norm")
_MIN_POINTS = 20


def clip_threshold(artifacts: TrainingArtifacts) -> tuple[float, str]:
    """Return the clipping threshold and where it came from ("" and NaN if unknown)."""
    metric = artifacts.get("clip_threshold")
    if metric is not None and np.isfinite(metric.values).any():
        return float(np.nanmedian(metric.values)), f"metric {metric.name}"
    for key, value in artifacts.hparams.items():
        leaf = key.rsplit(".", 1)[-1].lower()
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if leaf in _HPARAM_KEYS and numeric and math.isfinite(value) and value > 0:  # type: ignore[arg-type]
            return float(value), f"hyper-parameter {key}"  # type: ignore[arg-type]
    clipped = artifacts.get("grad_norm_clipped")
    if clipped is not None and np.isfinite(clipped.values).any():
        return float(np.nanmax(clipped.values)), f"maximum of {clipped.name}"
    return float("nan"), ""


@dataclass(frozen=True, slots=True)
class ClippingDetector:
    """Clipping that fires too often (too aggressive) or lets explosions through (ineffective).

    Parameters
    ----------
    stable_quantile : float, default=0.95
        The recommended threshold is this quantile of the norm over the stable steps (within
        half a decade of the running level).
    aggressive_frac : float, default=0.5
        Clipping on this fraction of steps scores 1.0 for "too aggressive".

    Notes
    -----
    ``clipping_too_aggressive`` score: fraction of steps whose pre-clip norm exceeds the
    threshold, divided by ``aggressive_frac``. ``clipping_ineffective`` score: how far, in
    decades, the threshold lies above the recommended value (clipping that never touches the
    spikes), times ``n_spikes_unclipped / max(1, n_spikes)`` where spikes are norms ten
    times above their running level; 1.0 means the threshold sits ten times above the
    stable norm while every spike passed through. Without a known threshold only the
    recommended value is reported (as a ``clipping_recommendation`` with score 0).
    """

    name: ClassVar[str] = "clipping"
    requires: ClassVar[frozenset[str]] = frozenset({"grad_norm"})
    kinds: ClassVar[tuple[str, ...]] = (
        "clipping_ineffective",
        "clipping_too_aggressive",
        "clipping_recommendation",
    )
    stable_quantile: float = 0.95
    aggressive_frac: float = 0.5

    def __post_init__(self) -> None:
        check_float(self, "stable_quantile", low=0.5, high=1.0)
        check_float(self, "aggressive_frac", low=0.0, high=1.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return clipping evidence (or only a recommendation when no threshold is known)."""
        norm = run.artifacts.get("grad_norm")
        if norm is None:
            return ()
        steps, raw = finite_part(norm)
        keep = raw > 0
        steps, raw = steps[keep], raw[keep]
        if len(steps) < _MIN_POINTS:
            return ()
        g = np.log10(raw)
        level, _ = trailing_median_mad(steps, g, window=window_steps(steps, frac=0.05))
        jump = g - level
        stable = np.isfinite(jump) & (np.abs(jump) < 0.5)
        recommended = (
            float(np.quantile(raw[stable], self.stable_quantile)) if stable.any() else float("nan")
        )
        spikes = np.isfinite(jump) & (jump > 1.0)
        would_clip = float((raw[spikes] > recommended).sum())
        threshold, source = clip_threshold(run.artifacts)
        base = (
            ("recommended_clip", recommended),
            ("n_norm_spikes", float(spikes.sum())),
            ("spikes_clipped_at_recommended", would_clip),
        )
        if not math.isfinite(threshold):
            return (self._recommendation(norm.name, base),)
        return self._judge(norm.name, raw, spikes, threshold, source, base)

    def _recommendation(self, metric: str, base: tuple[tuple[str, float], ...]) -> Evidence:
        clip = dict(base)["recommended_clip"]
        return Evidence(
            kind="clipping_recommendation",
            detector=self.name,
            score=0.0,
            metric=metric,
            values=base,
            message=f"No clipping threshold is known; {clip:.3g} is the "
            f"{self.stable_quantile:.0%} quantile of the norm in stable steps.",
        )

    def _judge(  # noqa: PLR0913 - one internal step
        self,
        metric: str,
        raw: FloatArray,
        spikes: np.ndarray,  # type: ignore[type-arg]
        threshold: float,
        source: str,
        base: tuple[tuple[str, float], ...],
    ) -> tuple[Evidence, ...]:
        frac = float((raw > threshold).mean())
        recommended = dict(base)["recommended_clip"]
        n_spikes = int(spikes.sum())
        unclipped = int((raw[spikes] <= threshold).sum()) if n_spikes else 0
        too_high = max(math.log10(threshold / recommended), 0.0) if recommended > 0 else 0.0
        ineffective = too_high * (unclipped / max(1, n_spikes)) if n_spikes else 0.0
        values = base + (("threshold", threshold), ("frac_steps_clipped", frac))
        aggressive = frac / self.aggressive_frac
        return (
            Evidence(
                kind="clipping_too_aggressive",
                detector=self.name,
                score=aggressive,
                metric=metric,
                severity="warning" if aggressive >= 1.0 else "info",
                values=values,
                message=f"Clipping at {threshold:.3g} ({source}) fires on {frac:.0%} of steps; "
                f"about {recommended:.3g} would clip only the outliers.",
            ),
            Evidence(
                kind="clipping_ineffective",
                detector=self.name,
                score=ineffective,
                metric=metric,
                severity="warning" if ineffective >= 1.0 else "info",
                values=values + (("spikes_below_threshold", float(unclipped)),),
                message=f"The clipping threshold {threshold:.3g} ({source}) is far above the "
                f"stable norm; {unclipped} of {n_spikes} norm spikes passed below it.",
            ),
        )
