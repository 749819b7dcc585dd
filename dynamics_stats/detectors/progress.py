"""`ProgressDetector`: stalled training, and performance plateaus with their outlook."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import Severity
from dynamics_stats.curves.types import ModelledRun, SmoothedCurve
from dynamics_stats.detectors._common import robust_sd
from dynamics_stats.detectors._trend import (
    extrapolated_gain,
    flat_from,
    improvement,
    is_fallback,
    steps_to_fraction,
    trend_of,
)
from dynamics_stats.detectors.base import Evidence

__all__ = ["ProgressDetector"]

Pairs = tuple[tuple[str, float], ...]
_MIN_POINTS = 10


def _late_change(curve: SmoothedCurve, start: int) -> tuple[float, float]:
    """Fall of the level over ``[start, end]`` from the mean smoothed slope, and its SE."""
    inside = curve.steps >= start
    length = float(curve.steps[-1] - start)
    slope, errors = curve.slope[inside], curve.slope_se[inside]
    se = float(np.mean(errors)) * length if np.isfinite(errors).all() else float("nan")
    return -float(np.mean(slope)) * length, se


@dataclass(frozen=True, slots=True)
class ProgressDetector:
    """Training that barely progresses (stalled), and plateaus with their outlook.

    Parameters
    ----------
    min_improvement_decades : float, default=0.1
        Total fall of the smoothed log10 training loss (x1.26) below which a run counts as
        stalled (score 1.0). Healthy runs of the synthetic generator fall by at least
        0.12 decades, runs with an LR 100-10,000x too low by at most 0.05; for losses
        that are not positive it is the fall relative to the starting level.
    late_frac : float, default=0.3
        Final fraction of the run examined for a performance plateau.
    late_gain_frac : float, default=0.02
        The final ``late_frac`` of the run counts as a plateau when it added less than
        this fraction of the run's total improvement (at least ``min_improvement``).

    Notes
    -----
    ``stalled`` score: ``min_improvement_decades / max(G, 0.01 min_improvement)`` with
    ``G`` the fall of the smoothed loss from the start (highest level in the first 5 %)
    to its minimum: 1.0 at the threshold, 2 for half of it, capped at 100. A converged run
    fell a lot and scores low however long its final plateau; a slow but steady run also
    fell a lot by its end. The values add how early progress stopped (``flat_from_step``:
    from there on the level stays within ``min_improvement / 10``, or twice its SE, of its
    minimum), the fraction of the run without progress, the improvement in noise units
    and the steps to 90 % of the improvement. Onset: the first step when the run
    improved by less than half the threshold (it never made real progress), else
    ``flat_from_step``.

    ``performance_plateau`` score: ``(1 - p) / 0.4`` with ``p`` = P(the final
    ``late_frac`` gained more than ``late_gain_frac`` of the improvement), from the mean
    smoothed slope and its SE: 1.0 when that is no more likely than 0.6, 2.5 when the
    tail is certainly flat or rising. Values hold the expected further fall if the run
    went on as long again, from a saturating power law fitted to the loss, with a
    ~95 % band (see `extrapolated_gain`), and whether that gain is material.
    """

    name: ClassVar[str] = "progress"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("stalled", "performance_plateau")
    min_improvement_decades: float = 0.1
    late_frac: float = 0.3
    late_gain_frac: float = 0.02

    def __post_init__(self) -> None:
        check_float(self, "min_improvement_decades", low=0.0, low_open=True)
        check_float(self, "late_frac", low=0.0, high=0.9, low_open=True)
        check_float(self, "late_gain_frac", low=0.0, high=1.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return evidence for ``stalled`` and ``performance_plateau``.

        Returns ``()`` when the training loss has fewer than 10 finite points.

        Examples
        --------
        >>> from dynamics_stats import validate_run
        >>> from dynamics_stats.curves import model_curves
        >>> from dynamics_stats.io.synthetic import make_run
        >>> run = model_curves(validate_run(make_run("stalled", seed=2)[0]))
        >>> stalled, plateau = ProgressDetector().detect(run)
        >>> stalled.kind, stalled.score > 1.0
        ('stalled', True)
        """
        loss = run.artifacts.get("train_loss")
        trend = None if loss is None else trend_of(run, loss)
        if loss is None or trend is None or len(trend.steps) < _MIN_POINTS:
            return ()
        fall, _ = improvement(trend)
        common: Pairs = (
            ("improvement_decades" if trend.log_scale else "improvement_relative", fall),
            ("steps_to_90pct_improvement", steps_to_fraction(trend, 0.9)),
            ("used_fallback", float(is_fallback(trend))),
        )
        return (
            self._stalled(loss, trend, fall, common),
            self._plateau(loss.name, trend, fall, common),
        )

    def _stalled(
        self, loss: MetricSeries, trend: SmoothedCurve, fall: float, common: Pairs
    ) -> Evidence:
        metric = loss.name
        threshold = self.min_improvement_decades
        score = threshold / max(fall, 0.01 * threshold)
        first, end = int(trend.steps[0]), int(trend.steps[-1])
        span = max(end - first, 1)
        tol = threshold / 10.0 * (1.0 if trend.log_scale else abs(float(trend.level[0])))
        tolerance = np.maximum(tol, 2.0 * trend.level_se)
        flat_step = int(trend.steps[flat_from(trend.level, tol=tolerance)])
        noise = robust_sd(trend.observed)
        values = (
            *common,
            ("flat_from_step", float(flat_step)),
            ("flat_frac", (end - flat_step) / span),
            ("improvement_noise_units", fall / noise if noise > 0 else float("nan")),
        )
        present = score >= 1.0
        finite = loss.steps[np.isfinite(loss.values)]
        onset = int(finite[0]) if fall < threshold / 2 else flat_step
        return Evidence(
            kind="stalled",
            detector=self.name,
            score=float(score),
            metric=metric,
            onset_step=onset if present else None,
            severity="critical" if present else "info",
            values=values,
            message=f"{metric} improved by only {fall:.3g} "
            f"{'decades' if trend.log_scale else '(relative)'} over the whole run: training "
            "is stalled (LR far too low, dead or saturated network, or a data bug)."
            if present
            else f"{metric} made real progress ({fall:.3g} "
            f"{'decades' if trend.log_scale else 'relative'}).",
        )

    def _plateau(self, metric: str, trend: SmoothedCurve, fall: float, common: Pairs) -> Evidence:
        from scipy.special import ndtr

        end = int(trend.steps[-1])
        late_start = int(end - self.late_frac * (end - int(trend.steps[0])))
        change, change_se = _late_change(trend, late_start)
        scale = 1.0 if trend.log_scale else abs(float(trend.level[0])) or 1.0
        needed = self.late_gain_frac * max(fall, self.min_improvement_decades) * scale
        if math.isfinite(change_se) and change_se > 0:
            p_material = float(ndtr((change - needed) / change_se))
        else:
            p_material = float(change > needed)
        score = (1.0 - p_material) / 0.4
        further, further_se = extrapolated_gain(trend)
        material = further - 2 * further_se > self.late_gain_frac * max(fall, 1e-12)
        values = (
            *common,
            ("late_change", change / scale),
            ("p_material_late_progress", p_material),
            ("expected_further_gain", further),
            ("expected_further_gain_low", further - 2 * further_se),
            ("expected_further_gain_high", further + 2 * further_se),
            ("further_gain_material", float(material)),
        )
        return self._plateau_evidence(metric, float(score), values, late_start, material)

    def _plateau_evidence(
        self, metric: str, score: float, values: Pairs, late_start: int, material: bool
    ) -> Evidence:
        present = score >= 1.0
        gain = dict(values)["expected_further_gain"]
        severity: Severity = "info"
        if not present:
            message = f"{metric} is still improving at the end of the run."
        elif material:
            message = (
                f"{metric} has slowed to a plateau, but the fitted learning curve expects "
                f"{gain:.2g} decades more from training as long again: the plateau looks "
                "temporary (train longer, or decay the learning rate)."
            )
        else:
            message = (
                f"{metric} has converged: the fitted learning curve expects little further "
                "gain from training longer (stop early, or change the setup to do better)."
            )
        return Evidence(
            kind="performance_plateau",
            detector=self.name,
            score=score,
            metric=metric,
            onset_step=late_start if present else None,
            severity=severity,
            values=values,
            message=message,
        )
