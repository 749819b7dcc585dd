"""`EfficiencyDetector`: how quickly the training loss converges, and what it cost."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.types import HParamValue
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._trend import (
    extrapolated_gain,
    improvement,
    is_fallback,
    steps_to_fraction,
    trend_of,
)
from dynamics_stats.detectors.base import Evidence

__all__ = ["PARAMETER_COUNT_KEYS", "EfficiencyDetector", "parameter_count"]

#: Hyper-parameter names (last dotted component, case-insensitive) holding the model size.
PARAMETER_COUNT_KEYS: tuple[str, ...] = (
    "n_parameters",
    "num_parameters",
    "num_params",
    "n_params",
    "total_parameters",
    "total_params",
    "param_count",
    "parameter_count",
    "model_parameters",
)
_MIN_POINTS = 10


def parameter_count(hparams: Mapping[str, HParamValue]) -> float:
    """Return the model's parameter count from the hyper-parameters (NaN if absent).

    Examples
    --------
    >>> parameter_count({"model.num_params": 124_000_000, "lr": 3e-4})
    124000000.0
    """
    for key, value in hparams.items():
        last = key.rsplit(".", 1)[-1].lower()
        if last not in PARAMETER_COUNT_KEYS or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            return float(value)
    return float("nan")


@dataclass(frozen=True, slots=True)
class EfficiencyDetector:
    """Slow convergence: the run needs most of its steps to make most of its progress.

    Parameters
    ----------
    slow_frac : float, default=0.8
        Fraction of the run by which 90 % of the achieved improvement should be done:
        reaching it only then scores 1.0. Healthy power-law runs of the synthetic
        generator get there after 20-65 % of their steps; a run whose loss falls
        linearly to the end gets there at 90 %.

    Notes
    -----
    Score: ``t90 / slow_frac`` where ``t90`` is the fraction of the run's steps until the
    smoothed training loss first achieved 90 % of its total fall (from the highest level
    in the first 5 % of the run to the minimum). It grows the later the progress comes,
    is scale-invariant (relative to the run's own improvement) and independent of the
    logging interval. Values add the steps to 50 % and 90 %, the improvement rate until
    then, the expected further fall from training as long again (saturating power-law
    extrapolation, see `extrapolated_gain`) relative to the fall so far, its band (the
    potential for acceleration), and, when the hyper-parameters give the model size
    (`PARAMETER_COUNT_KEYS`), the parameter count and parameters x steps to 90 %, a
    compute proxy (FLOPs up to the batch size and a constant).
    """

    name: ClassVar[str] = "efficiency"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("slow_convergence",)
    slow_frac: float = 0.8

    def __post_init__(self) -> None:
        check_float(self, "slow_frac", low=0.0, high=1.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"slow_convergence"``.

        Examples
        --------
        >>> from dynamics_stats import validate_run
        >>> from dynamics_stats.curves import model_curves
        >>> from dynamics_stats.io.synthetic import make_run
        >>> run = model_curves(validate_run(make_run(seed=3)[0]))
        >>> (evidence,) = EfficiencyDetector().detect(run)
        >>> evidence.kind, evidence.score < 1.0
        ('slow_convergence', True)
        """
        loss = run.artifacts.get("train_loss")
        trend = None if loss is None else trend_of(run, loss)
        if loss is None or trend is None or len(trend.steps) < _MIN_POINTS:
            return ()
        span = max(float(trend.steps[-1] - trend.steps[0]), 1.0)
        fall, _ = improvement(trend)
        t50, t90 = steps_to_fraction(trend, 0.5), steps_to_fraction(trend, 0.9)
        further, further_se = extrapolated_gain(trend)
        n_params = parameter_count(run.artifacts.hparams)
        relative = fall if fall > 0 else float("nan")
        values = (
            ("improvement_decades" if trend.log_scale else "improvement_relative", fall),
            ("steps_to_50pct_improvement", t50),
            ("steps_to_90pct_improvement", t90),
            ("frac_run_to_50pct", t50 / span),
            ("frac_run_to_90pct", t90 / span),
            ("improvement_per_1k_steps_to_90pct", 0.9 * fall / max(t90, 1.0) * 1000.0),
            ("expected_further_gain", further),
            ("expected_further_gain_frac", further / relative),
            ("expected_further_gain_frac_high", (further + 2 * further_se) / relative),
            ("n_parameters", n_params),
            ("parameter_steps_to_90pct", n_params * t90),
            ("used_fallback", float(is_fallback(trend))),
        )
        score = t90 / span / self.slow_frac if math.isfinite(t90) else 0.0
        return (self._evidence(loss.name, score, values),)

    def _evidence(
        self, metric: str, score: float, values: tuple[tuple[str, float], ...]
    ) -> Evidence:
        present = score >= 1.0
        facts = dict(values)
        t90 = facts["steps_to_90pct_improvement"]
        reached = f"reached 90 % of its improvement after {t90:,.0f} steps " if t90 == t90 else ""
        if present:
            message = f"{metric} converges slowly: it {reached}({facts['frac_run_to_90pct']:.0%} "
            message += "of the run); a higher learning rate or a better schedule may speed it up."
        else:
            message = f"{metric} {reached or 'made no measurable progress '}".rstrip() + "."
        return Evidence(
            kind="slow_convergence",
            detector=self.name,
            score=float(score),
            metric=metric,
            severity="warning" if present else "info",
            values=values,
            message=message,
        )
