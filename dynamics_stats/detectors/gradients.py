"""`GradientDetector`: exploding and vanishing gradients, measured or inferred from the loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import (
    finite_part,
    log_scale,
    rolling_median,
    trailing_median_mad,
    window_steps,
)
from dynamics_stats.detectors._excursions import find_spikes
from dynamics_stats.detectors.base import Evidence

__all__ = ["GradientDetector"]

_MIN_POINTS = 20
Pairs = tuple[tuple[str, float], ...]


def _positive_log(series: MetricSeries) -> tuple[IntArray, FloatArray, FloatArray]:
    steps, values = finite_part(series, keep="max")
    keep = values > 0
    return steps[keep], values[keep], np.log10(values[keep])


def _top_jumps(jump: FloatArray) -> tuple[float, float, int]:
    finite = np.sort(jump[np.isfinite(jump)])[::-1]
    if not len(finite):
        return 0.0, 0.0, -1
    first = float(finite[0])
    second = float(finite[1]) if len(finite) > 1 else 0.0
    return first, second, int(np.nanargmax(np.where(np.isfinite(jump), jump, -np.inf)))


def _loss_reacted(run: ModelledRun, step: int, window: int) -> bool:
    loss = run.artifacts.get("train_loss")
    if loss is None:
        return False
    steps, values = finite_part(loss)
    y, _ = log_scale(values)
    near = (steps >= step) & (steps <= step + max(window // 10, 1))
    before = (steps < step) & (steps >= step - window)
    if near.sum() == 0 or before.sum() < 3:
        return bool(np.isin(step, loss.steps[~np.isfinite(loss.values)]))
    base = np.median(y[before])
    spread = 1.4826 * np.median(np.abs(y[before] - base)) + 1e-9
    return bool(np.max(y[near]) > base + 5 * spread)


@dataclass(frozen=True, slots=True)
class GradientDetector:
    """Exploding and vanishing gradients, from a logged norm or inferred from the loss.

    Parameters
    ----------
    window_frac : float, default=0.05
        Window of the running level of the log10 norm, as a fraction of the run.
    reference_frac : float, default=0.2
        The healthy reference level is the median log norm over this first fraction of
        the run (vanishing is judged against the run's own early norm, because absolute
        norm scales differ by orders of magnitude between models).

    Notes
    -----
    Exploding score (logged norm): the second largest jump of the log10 norm above its
    trailing median, in decades; the largest jump is used instead when the loss reacted to
    it (a loss excursion right after it). A single isolated outlier that the loss ignores
    therefore scores low, a sustained or harmful jump of 10x scores 1.0. Inferred mode (no
    norm logged): ``0.7 x`` the height in decades of the largest recovered loss spike.
    Vanishing score (logged norm): the fall in decades of the rolling median norm below the
    reference level, divided by 2 (1.0 = a hundredfold fall), multiplied by
    ``1 / (1 + progress / 0.1)`` where ``progress`` is the fall of the log10 loss during the
    low period: a norm that shrinks while the loss keeps improving is convergence, not
    vanishing. Inferred mode: none (a vanishing gradient cannot be told from a stall on
    the loss alone), so no vanishing evidence is emitted and the kind is reported as not
    assessed.
    """

    name: ClassVar[str] = "gradients"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("exploding_gradients", "vanishing_gradients")
    window_frac: float = 0.05
    reference_frac: float = 0.2

    def __post_init__(self) -> None:
        check_float(self, "window_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "reference_frac", low=0.0, high=0.9, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` per kind: exploding and vanishing gradients."""
        norm = run.artifacts.get("grad_norm")
        if norm is not None and len(_positive_log(norm)[0]) >= _MIN_POINTS:
            return self._direct(run, norm)
        return self._inferred(run)

    def _direct(self, run: ModelledRun, norm: MetricSeries) -> tuple[Evidence, ...]:
        steps, raw, g = _positive_log(norm)
        window = window_steps(steps, frac=self.window_frac, min_points=10)
        level, _ = trailing_median_mad(steps, g, window=window)
        jump = g - level
        first, second, at = _top_jumps(jump)
        reacted = at >= 0 and _loss_reacted(run, int(steps[at]), window)
        explode = first if reacted else second
        stable = np.isfinite(jump) & (np.abs(jump) < 0.5)
        clip = float(np.percentile(raw[stable], 95)) if stable.sum() >= 10 else float("nan")
        above = np.flatnonzero(jump > 1.0)
        onset = int(steps[above[0]]) if len(above) and explode >= 1.0 else None
        iforest = run.grad_anomalies
        n_iforest = float(iforest.is_anomaly.sum()) if iforest is not None else float("nan")
        exploding = Evidence(
            kind="exploding_gradients",
            detector=self.name,
            score=float(max(explode, 0.0)),
            metric=norm.name,
            onset_step=onset,
            severity="critical" if explode >= 1.0 else "info",
            values=(
                ("inferred", 0.0),
                ("max_jump_decades", first),
                ("second_jump_decades", second),
                ("loss_reacted", float(reacted)),
                ("n_points_10x_above_level", float(len(above))),
                ("n_iforest_anomalies", n_iforest),
                ("recommended_clip", clip),
            ),
            steps=tuple(int(s) for s in steps[above][:50]),
            message=f"The gradient norm jumped {10**explode:.0f}x above its running level."
            if explode >= 1.0
            else "No gradient explosion.",
        )
        return exploding, self._vanishing(run, norm, steps, g, window)

    def _vanishing(
        self, run: ModelledRun, norm: MetricSeries, steps: IntArray, g: FloatArray, window: int
    ) -> Evidence:
        smooth = rolling_median(steps, g, window=window)
        ref_end = steps[0] + self.reference_frac * max(steps[-1] - steps[0], 1)
        early = steps <= ref_end
        reference = float(np.median(g[early]))
        later = ~early if (~early).any() else early
        low_pos = np.flatnonzero(later)[int(np.argmin(smooth[later]))]
        drop = reference - float(smooth[low_pos])
        low = later & (smooth < reference - 1.0)
        progress = self._loss_progress(run, steps[low]) if low.any() else 0.0
        score = max(drop, 0.0) / 2.0 / (1.0 + max(progress, 0.0) / 0.1)
        onset = int(steps[np.flatnonzero(low)[0]]) if low.any() and score >= 1.0 else None
        return Evidence(
            kind="vanishing_gradients",
            detector=self.name,
            score=float(score),
            metric=norm.name,
            onset_step=onset,
            severity="critical" if score >= 1.0 else "info",
            values=(
                ("inferred", 0.0),
                ("drop_decades", drop),
                ("low_frac", float(low.mean())),
                ("loss_progress_decades_when_low", progress),
                ("reference_log10_norm", reference),
            ),
            message=f"The gradient norm fell {10**drop:.0f}x below its early level while the "
            "loss stalled."
            if score >= 1.0
            else "No vanishing gradients.",
        )

    @staticmethod
    def _loss_progress(run: ModelledRun, low_steps: IntArray) -> float:
        loss = run.artifacts.get("train_loss")
        if loss is None or not len(low_steps):
            return 0.0
        steps, values = finite_part(loss)
        y, _ = log_scale(values)
        inside = (steps >= low_steps[0]) & (steps <= low_steps[-1])
        if inside.sum() < 4:
            return 0.0
        chunk = y[inside]
        k = max(len(chunk) // 5, 1)
        return float(np.median(chunk[:k]) - np.median(chunk[-k:]))

    def _inferred(self, run: ModelledRun) -> tuple[Evidence, ...]:
        loss = run.artifacts.get("train_loss")
        if loss is None:
            return ()
        steps, values = finite_part(loss)
        height, n = 0.0, 0
        if len(steps) >= _MIN_POINTS:
            y, is_log = log_scale(values)
            window = window_steps(steps, frac=0.02, min_points=10)
            pos, _, heights, _ = find_spikes(steps, y, window=window, z_threshold=6.0)
            if len(pos) and is_log:
                height, n = float(heights.max()), len(pos)
        score = 0.7 * height
        common: Pairs = (("inferred", 1.0), ("loss_spike_height_decades", height))
        return (
            Evidence(
                kind="exploding_gradients",
                detector=self.name,
                score=score,
                metric=loss.name,
                severity="warning" if score >= 1.0 else "info",
                values=common + (("n_loss_spikes", float(n)),),
                message="No gradient norm is logged; loss spikes suggest exploding gradients."
                if score >= 1.0
                else "No gradient norm is logged; the loss shows no sign of exploding gradients.",
            ),
        )
