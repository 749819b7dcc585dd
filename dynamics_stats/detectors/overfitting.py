"""`OverfittingDetector`: validation degrades while training keeps improving."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.curves.smoothing import slope_probability
from dynamics_stats.curves.types import ModelledRun, SmoothedCurve
from dynamics_stats.detectors._trend import is_fallback, trend_of
from dynamics_stats.detectors.base import Evidence

__all__ = ["OverfittingDetector"]


def _validation(run: ModelledRun) -> MetricSeries | None:
    val = run.artifacts.get("val_loss")
    if val is not None and np.isfinite(val.values).sum() >= 5:
        return val
    metric = run.artifacts.get("val_metric")
    if metric is not None and metric.direction in ("min", "max"):
        return metric
    return val


def _slope_probabilities(
    val: SmoothedCurve, train: SmoothedCurve, start: int, end: int, sign: float
) -> tuple[float, float, float]:
    """P(train falls), P(validation gets worse), P(validation improves) over ``[start, end]``."""
    p_train_down = slope_probability(train, start_step=start, end_step=end, positive=False)
    p_val_up = slope_probability(val, start_step=start, end_step=end, positive=sign > 0)
    p_val_down = slope_probability(val, start_step=start, end_step=end, positive=sign < 0)
    return p_train_down, p_val_up, p_val_down


def _level_near(curve: SmoothedCurve, step: int) -> float:
    """Return the level of the curve point nearest ``step``.

    Unlike `level_at` this does not interpolate: the gap is read at the training curve's
    point nearest the validation step (the two differ by at most the level's change over
    half a bin), which is the evidence the shipped calibration was fitted on.
    """
    return float(curve.level[int(np.argmin(np.abs(curve.steps - step)))])


def _gap_growth(val: SmoothedCurve, train: SmoothedCurve, best_step: int, sign: float) -> float:
    """Growth of the (log) train/validation loss gap from the optimum to the end."""
    if sign < 0 or not (val.log_scale and train.log_scale):
        return 0.0
    gap_best = _level_near(val, best_step) - _level_near(train, best_step)
    gap_end = float(val.level[-1]) - _level_near(train, int(val.steps[-1]))
    return float(gap_end - gap_best)


@dataclass(frozen=True, slots=True)
class OverfittingDetector:
    """Validation loss (or metric) degrades, or stalls while the gap widens, as training improves.

    Parameters
    ----------
    rise_decades : float, default=0.05
        A rise of the smoothed validation loss above its minimum of this many decades
        (x1.12) counts as a clear degradation (score 1 when significant and training
        still improves).
    giveback_frac : float, default=0.1
        For validation metrics on a linear scale: giving back this fraction of the
        run's improvement counts as a clear degradation.

    Notes
    -----
    The validation curve is turned into "badness" (its log10 for a positive loss, minus
    the metric for accuracy-like metrics). ``rise`` is the badness at the end minus its
    minimum, ``significance = min(1, rise / (2 SE))`` with the smoothed level's SE at the
    end, ``p_val_up`` = P(mean validation slope since the minimum points to worse) and
    ``p_train_down`` = P(the training loss kept falling over the same window). Score:
    ``rise / rise_decades`` (or ``giveback / giveback_frac``) times the significance times
    ``p_train_down`` (validation getting worse while training gets worse too is divergence,
    not overfitting), or, when validation merely stalls,
    ``gap_growth / (2 rise_decades) * (1 - p_val_down)`` if larger: the generalisation gap
    widening by 0.1 decade while validation stops improving. 1.0 is the "present"
    threshold. The onset is the step of the validation optimum (the best checkpoint).

    Both curves come from `trend_of`, as in the other trend detectors: the curve layer's
    smoothed curve when its levels, slopes and standard errors are all finite, otherwise
    (no curve model, or the EWMA fallback of a failed fit, whose slope SE is unknown) a
    local straight line through the binned raw values with its own level and slope SEs.
    On that fallback the slope probabilities are therefore computed, not 0.5, and the
    significance uses the fallback's level SE; ``used_fallback`` is 1 when the validation
    curve is a fallback. The probabilities are `slope_probability` of the curve layer
    (0.5 for an empty window; with a zero SE, 1 or 0 by the sign of the mean slope).
    """

    name: ClassVar[str] = "overfitting"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("overfitting",)
    rise_decades: float = 0.05
    giveback_frac: float = 0.1

    def __post_init__(self) -> None:
        check_float(self, "rise_decades", low=0.0, low_open=True)
        check_float(self, "giveback_frac", low=0.0, high=1.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"overfitting"`` (none without validation data)."""
        val, train = _validation(run), run.artifacts.get("train_loss")
        if val is None or train is None:
            return ()
        val_trend, train_trend = trend_of(run, val), trend_of(run, train)
        if val_trend is None or train_trend is None:
            return ()
        sign = -1.0 if val.direction == "max" else 1.0
        badness = sign * val_trend.level
        best = int(np.argmin(badness))
        best_step, end_step = int(val_trend.steps[best]), int(val_trend.steps[-1])
        rise = float(badness[-1] - badness[best])
        improvement = float(np.max(badness[: best + 1]) - badness[best])
        se_end = float(val_trend.level_se[-1]) or 1e-12
        significance = min(1.0, rise / (2.0 * se_end))
        p_train_down, p_val_up, p_val_down = _slope_probabilities(
            val_trend, train_trend, best_step, end_step, sign
        )
        gap_growth = _gap_growth(val_trend, train_trend, best_step, sign)
        if val_trend.log_scale and sign > 0:
            degrade = rise / self.rise_decades
        else:
            degrade = rise / max(improvement, 1e-12) / self.giveback_frac
        score = max(degrade, 0.0) * max(significance, 0.0) * p_train_down
        stall = max(gap_growth, 0.0) / (2 * self.rise_decades) * (1 - p_val_down)
        score = float(max(score, stall))
        values = (
            ("best_step", float(best_step)),
            ("rise", rise),
            ("rise_significance", significance),
            ("p_val_worse_since_best", p_val_up),
            ("p_train_better_since_best", p_train_down),
            ("gap_growth_decades", gap_growth),
            (
                "frac_run_after_best",
                (end_step - best_step) / max(end_step - int(val_trend.steps[0]), 1),
            ),
            ("used_fallback", float(is_fallback(val_trend))),
        )
        return (self._evidence(val, score, best_step, values),)

    def _evidence(
        self, val: MetricSeries, score: float, best_step: int, values: tuple[tuple[str, float], ...]
    ) -> Evidence:
        present = score >= 1.0
        return Evidence(
            kind="overfitting",
            detector=self.name,
            score=score,
            metric=val.name,
            onset_step=best_step if present else None,
            severity="warning" if present else "info",
            values=values,
            message=f"{val.name} was best at step {best_step:,} and got worse afterwards while "
            "the training loss kept improving."
            if present
            else f"No sign of overfitting in {val.name}.",
        )
