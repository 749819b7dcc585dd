"""`ClippingDetector`: whether gradient clipping fires at a threshold that fits the norms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.types import BoolArray, FloatArray, IntArray
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import (
    finite_part,
    head_mask,
    trailing_extreme,
    trailing_median_mad,
    values_at,
    window_steps,
)
from dynamics_stats.detectors.base import Evidence

__all__ = ["ClippingDetector", "clip_threshold"]

#: Hyper-parameter names (last dotted part, lower case) that hold a clipping threshold.
HPARAM_KEYS = (
    "gradient_clip_val",  # Lightning Trainer
    "max_grad_norm",  # HF TrainingArguments
    "grad_clip",  # nanoGPT, llm.c
    "clip_grad_norm",
    "clip_grad",
    "clip_norm",
    "clipnorm",  # Keras optimizers
    "gradient_clipping",  # DeepSpeed
)
_MIN_POINTS = 20
Values = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Threshold:
    """A clipping threshold and where it came from.

    Parameters
    ----------
    value : float
        The threshold (inf when clipping is disabled, NaN when unknown).
    source : str
        Where it was found (``""`` when unknown).
    lower_bound : bool
        True when only a lower bound is known (a clipped-norm metric that never fell
        below the raw norm).
    """

    value: float
    source: str
    lower_bound: bool = False


def _from_clipped(artifacts: TrainingArtifacts) -> Threshold | None:
    clipped, raw = artifacts.get("grad_norm_clipped"), artifacts.get("grad_norm")
    if clipped is None or not np.isfinite(clipped.values).any():
        return None
    values = clipped.values[np.isfinite(clipped.values)]
    if raw is not None:
        before = values_at(raw, clipped.steps)
        fired = np.isfinite(clipped.values) & (clipped.values < 0.999 * before)
        if fired.any():
            return Threshold(
                float(np.median(clipped.values[fired])), f"clipped norms ({clipped.name})"
            )
    return Threshold(float(values.max()), f"maximum of {clipped.name}", lower_bound=True)


def _from_hparams(artifacts: TrainingArtifacts) -> Threshold | None:
    for key, value in artifacts.hparams.items():
        if key.rsplit(".", 1)[-1].lower() not in HPARAM_KEYS:
            continue
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if value is None or number == 0:
            return Threshold(math.inf, f"hyper-parameter {key} (clipping off)")
        if number is not None and math.isfinite(number) and number > 0:
            return Threshold(float(number), f"hyper-parameter {key}")
    return None


def clip_threshold(artifacts: TrainingArtifacts) -> Threshold:
    """Find the clipping threshold of a run.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.

    Returns
    -------
    Threshold
        From, in order: a ``clip_threshold`` metric (its median); the clipped norm where
        it fell below the raw norm (its median there); a hyper-parameter in `HPARAM_KEYS`
        (0 or None means clipping is off); the maximum of a clipped-norm metric as a lower
        bound. NaN with source ``""`` when nothing is known.
    """
    metric = artifacts.get("clip_threshold")
    if metric is not None and (np.isfinite(metric.values) & (metric.values > 0)).any():
        positive = metric.values[np.isfinite(metric.values) & (metric.values > 0)]
        return Threshold(float(np.median(positive)), f"metric {metric.name}")
    clipped = _from_clipped(artifacts)
    if clipped is not None and not clipped.lower_bound:
        return clipped
    return _from_hparams(artifacts) or clipped or Threshold(float("nan"), "")


@dataclass(frozen=True, slots=True, eq=False)
class _Norms:
    """The gradient norm split into stable points and spikes."""

    steps: IntArray
    raw: FloatArray
    stable: BoolArray  # within half a decade of the baseline, after the first 5 %
    spikes: BoolArray  # ten times or more above the baseline


def _norms(steps: IntArray, raw: FloatArray) -> _Norms:
    """Split the norms by their distance from the baseline.

    The baseline is the running level (trailing median over 5 % of the run), capped at
    half a decade above the lowest running level of the last half run, so a sustained
    explosion does not become the baseline of its own later steps.
    """
    g = np.log10(raw)
    level, _ = trailing_median_mad(steps, g, window=window_steps(steps, frac=0.05), min_points=5)
    level = np.where(np.isfinite(level), level, g)
    floor = trailing_extreme(steps, level, window=int(0.5 * (steps[-1] - steps[0])), how="min")
    jump = g - np.minimum(level, floor + 0.5)
    stable = (np.abs(jump) < 0.5) & ~head_mask(steps, 0.05)
    if stable.sum() < 10:
        stable = np.abs(jump) < 0.5
    return _Norms(steps, raw, stable, jump >= 1.0)


@dataclass(frozen=True, slots=True)
class ClippingDetector:
    """Clipping that fires too often (too aggressive) or lets explosions through (ineffective).

    Parameters
    ----------
    stable_quantile : float, default=0.95
        The recommended threshold is this quantile of the norm over the stable steps
        (within half a decade of the baseline, after the first 5 % of the run):
        clipping then touches about 5 % of ordinary steps and every real spike.
    aggressive_frac : float, default=0.5
        Clipping this fraction of the stable steps scores 1.0 for "too aggressive": the
        threshold then sits below the median norm, so most updates are rescaled and the
        learning rate is effectively lower than configured.

    Notes
    -----
    The threshold comes from `clip_threshold` (a metric, the clipped norm, or the
    hyper-parameters). Spikes are norms ten times or more above their baseline: the
    running level (trailing median over 5 % of the run), capped at half a decade above
    the lowest running level of the last half run so that a sustained explosion does not
    become its own baseline.

    ``clipping_too_aggressive`` score: the fraction of stable steps whose pre-clip norm
    exceeds the threshold, divided by ``aggressive_frac``. ``clipping_ineffective``
    score: how far, in decades, the threshold (or the largest norm, if lower or if
    clipping is off) lies above the recommended value, times the fraction of spikes that
    passed below the threshold; 1.0 means a threshold ten times above the stable norm
    that every spike passed, 0 when the norm never spiked. Without any threshold both
    scores are 0 and only the recommendation is reported. The scores are ratios of norms,
    so they do not change when the loss and the norm are multiplied by a constant together
    with the threshold; windows are in steps.

    Examples
    --------
    >>> ClippingDetector().kinds
    ('clipping_ineffective', 'clipping_too_aggressive')
    """

    name: ClassVar[str] = "clipping"
    requires: ClassVar[frozenset[str]] = frozenset({"grad_norm"})
    kinds: ClassVar[tuple[str, ...]] = ("clipping_ineffective", "clipping_too_aggressive")
    stable_quantile: float = 0.95
    aggressive_frac: float = 0.5

    def __post_init__(self) -> None:
        check_float(self, "stable_quantile", low=0.5, high=1.0)
        check_float(self, "aggressive_frac", low=0.0, high=1.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` per kind (none without a gradient norm).

        Parameters
        ----------
        run : ModelledRun
            The modelled run.

        Returns
        -------
        tuple of Evidence
        """
        norm = run.artifacts.get("grad_norm")
        if norm is None:
            return ()
        steps, raw = finite_part(norm)
        keep = raw > 0
        threshold = clip_threshold(run.artifacts)
        if keep.sum() < _MIN_POINTS:
            values: Values = (("n_points", float(keep.sum())),)
            return self._pair(norm.name, (0.0, 0.0), values, "Too few gradient norms to judge.")
        norms = _norms(steps[keep], raw[keep])
        stable = norms.raw[norms.stable]
        recommended = float(np.quantile(stable, self.stable_quantile)) if len(stable) else math.nan
        base: Values = (
            ("recommended_clip", recommended),
            ("n_norm_spikes", float(norms.spikes.sum())),
            ("spikes_clipped_at_recommended", float((norms.raw[norms.spikes] > recommended).sum())),
            ("frac_clipped_at_recommended", float(np.mean(norms.raw > recommended))),
            ("threshold_known", float(not math.isnan(threshold.value))),
        )
        if math.isnan(threshold.value) or math.isnan(recommended):
            text = f"No clipping threshold is known; {recommended:.3g} would clip the spikes."
            return self._pair(norm.name, (0.0, 0.0), base, text)
        return self._judge(norm.name, norms, threshold, recommended, base)

    def _judge(  # noqa: PLR0913 - one internal step
        self, metric: str, norms: _Norms, threshold: Threshold, recommended: float, base: Values
    ) -> tuple[Evidence, ...]:
        t, raw = threshold.value, norms.raw
        fired = raw > t
        frac_stable = float(np.mean(fired[norms.stable])) if norms.stable.any() else 0.0
        n_spikes = int(norms.spikes.sum())
        passed = int((raw[norms.spikes] <= t).sum())
        excess = max(math.log10(min(t, float(raw.max())) / recommended), 0.0)
        ineffective = excess * passed / n_spikes if n_spikes else 0.0
        aggressive = frac_stable / self.aggressive_frac
        early = head_mask(norms.steps, 0.1)
        values = base + (
            ("threshold", t),
            ("threshold_is_lower_bound", float(threshold.lower_bound)),
            ("clipping_enabled", float(math.isfinite(t))),
            ("frac_clipped", float(fired.mean())),
            ("frac_stable_clipped", frac_stable),
            ("frac_of_clipped_in_first_10pct", float(fired[early].sum() / max(fired.sum(), 1))),
            ("spikes_below_threshold", float(passed)),
            ("threshold_to_recommended_decades", math.log10(t / recommended)),
        )
        shown = "off" if math.isinf(t) else f"{t:.3g}"
        text = (
            f"Clipping at {shown} ({threshold.source}) fires on {fired.mean():.0%} of steps "
            f"and {passed} of {n_spikes} norm spikes passed below it; {recommended:.3g} "
            f"(the {self.stable_quantile:.0%} quantile of stable norms) would clip "
            f"{int((raw[norms.spikes] > recommended).sum())} of them."
        )
        clipped = tuple(int(s) for s in norms.steps[fired][:50])
        return self._pair(metric, (ineffective, aggressive), values, text, clipped)

    def _pair(  # noqa: PLR0913 - one internal step
        self,
        metric: str,
        scores: tuple[float, float],
        values: Values,
        message: str,
        steps: tuple[int, ...] = (),
    ) -> tuple[Evidence, ...]:
        return tuple(
            Evidence(
                kind=kind,
                detector=self.name,
                score=float(score),
                metric=metric,
                severity="warning" if score >= 1.0 else "info",
                values=values,
                steps=steps,
                message=message,
            )
            for kind, score in zip(self.kinds, scores, strict=True)
        )
