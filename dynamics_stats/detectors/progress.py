"""`ProgressDetector`: stalled training, plateaus, convergence speed, gain from training more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._trend import TrendCurve, slope_sign_probability, trend_of
from dynamics_stats.detectors.base import Evidence

__all__ = ["ProgressDetector"]

Pairs = tuple[tuple[str, float], ...]


def _improvement(trend: TrendCurve) -> tuple[float, float]:
    """Total improvement of the level (start minus minimum) and the start level."""
    head = trend.level[: max(len(trend.level) // 20, 1)]
    start = float(np.max(head))
    return start - float(np.min(trend.level)), start


def _steps_to_frac(trend: TrendCurve, frac: float) -> float:
    """First step where the level achieved ``frac`` of the run's total improvement."""
    gain, start = _improvement(trend)
    if gain <= 0:
        return float("nan")
    reached = np.flatnonzero(start - trend.level >= frac * gain)
    return float(trend.steps[reached[0]] - trend.steps[0]) if len(reached) else float("nan")


def _extrapolated_gain(trend: TrendCurve) -> tuple[float, float]:
    """Further improvement (level units) if the run went on as long again, and its SE.

    The smoothed slope over the last 20% is taken as decaying like a power law in steps
    (slope ~ 1/t), so the gain over [T, 2T] is ``-slope_end * T * ln 2``.
    """
    span = float(trend.steps[-1] - trend.steps[0]) or 1.0
    tail = trend.steps >= trend.steps[-1] - 0.2 * span
    slope = float(np.mean(trend.slope[tail]))
    errors = trend.slope_se[tail]
    se = float(np.mean(errors)) if np.isfinite(errors).all() else float("nan")
    t_end = float(trend.steps[-1]) or span
    factor = t_end * np.log(2.0)
    return -slope * factor, se * factor


@dataclass(frozen=True, slots=True)
class ProgressDetector:
    """Training that barely progresses (stalled), and plateaus with their outlook.

    Parameters
    ----------
    min_improvement_decades : float, default=0.1
        Total improvement of the smoothed log10 loss that a working run reaches (x1.26):
        a run improving this much scores 1.0 for ``stalled`` at most when it has also
        stopped improving.
    late_frac : float, default=0.3
        The final fraction of the run examined for a plateau.

    Notes
    -----
    ``stalled`` score: ``min_improvement / max(improvement, 0.01)`` times
    ``(1 - p_improving_late)``, where ``improvement`` is the fall of the smoothed loss from
    the start of the run to its minimum (decades; for losses that are not positive, the
    fall relative to the start's magnitude) and ``p_improving_late`` is P(the loss still
    falls over the last ``late_frac``). A run that improved little and stopped scores
    high; a run that improved a lot and then converged scores low (it is not stalled); a
    run that improves slowly but steadily scores low too.
    ``performance_plateau`` score: ``(1 - p_improving_late) / 0.4`` (1.0 when the loss
    still falls with probability 0.6 or less; a flat tail scores about 1.25), with the
    expected further gain from running as long again, from a power-law extrapolation of
    the final slope, in the values.
    """

    name: ClassVar[str] = "progress"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("stalled", "performance_plateau")
    min_improvement_decades: float = 0.1
    late_frac: float = 0.3

    def __post_init__(self) -> None:
        check_float(self, "min_improvement_decades", low=0.0, low_open=True)
        check_float(self, "late_frac", low=0.0, high=0.9, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return evidence for ``stalled`` and ``performance_plateau``."""
        loss = run.artifacts.get("train_loss")
        trend = None if loss is None else trend_of(run, loss)
        if loss is None or trend is None or len(trend.steps) < 10:
            return ()
        gain, start = _improvement(trend)
        if not trend.log_scale:
            gain = gain / max(abs(start), 1e-12)
        end = int(trend.steps[-1])
        late_start = int(end - self.late_frac * (end - trend.steps[0]))
        p_late = slope_sign_probability(trend, late_start, end, positive=False)
        further, further_se = _extrapolated_gain(trend)
        common: Pairs = (
            ("improvement_decades" if trend.log_scale else "improvement_relative", gain),
            ("p_improving_late", p_late),
            ("steps_to_90pct_improvement", _steps_to_frac(trend, 0.9)),
            ("used_fallback", float(trend.fallback)),
        )
        stalled = self.min_improvement_decades / max(gain, 0.01) * (1.0 - p_late)
        plateau = (1.0 - p_late) / 0.4
        outlook: Pairs = (
            ("expected_further_gain", further),
            ("expected_further_gain_low", further - 2 * further_se),
            ("expected_further_gain_high", further + 2 * further_se),
        )
        return (
            self._stalled(loss.name, float(stalled), common, trend),
            self._plateau(loss.name, float(plateau), common + outlook, late_start),
        )

    def _stalled(self, metric: str, score: float, values: Pairs, trend: TrendCurve) -> Evidence:
        present = score >= 1.0
        return Evidence(
            kind="stalled",
            detector=self.name,
            score=score,
            metric=metric,
            onset_step=int(trend.steps[0]) if present else None,
            severity="critical" if present else "info",
            values=values,
            message=f"{metric} barely improved over the run and is no longer improving."
            if present
            else f"{metric} made real progress.",
        )

    def _plateau(self, metric: str, score: float, values: Pairs, late_start: int) -> Evidence:
        present = score >= 1.0
        gain = dict(values)["expected_further_gain"]
        return Evidence(
            kind="performance_plateau",
            detector=self.name,
            score=score,
            metric=metric,
            onset_step=late_start if present else None,
            severity="info",
            values=values,
            message=f"{metric} has plateaued; running as long again would gain about "
            f"{gain:.3g} (log10 units) by extrapolation."
            if present
            else f"{metric} is still improving at the end of the run.",
        )
