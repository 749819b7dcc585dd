"""`LRScheduleDetector`: how the training loss responds to the learning rate and its changes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float, check_int
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import FloatArray
from dynamics_stats.curves.smoothing import slope_probability
from dynamics_stats.curves.types import ModelledRun, SmoothedCurve
from dynamics_stats.detectors._trend import improvement, is_fallback, lr_drop_steps, trend_of
from dynamics_stats.detectors.base import Evidence

__all__ = ["LRScheduleDetector"]

Pairs = tuple[tuple[str, float], ...]
_NAN = float("nan")
_MIN_BINS = 6


def _binned_lr_and_rate(
    trend: SmoothedCurve, lr: MetricSeries, n_bins: int
) -> tuple[FloatArray, FloatArray]:
    """Mean log10 LR and mean loss fall per step (decades) in equal windows of steps."""
    keep = np.isfinite(lr.values) & (lr.values > 0)
    lr_steps, log_lr = lr.steps[keep], np.log10(lr.values[keep])
    edges = np.linspace(float(trend.steps[0]), float(trend.steps[-1]) + 1.0, n_bins + 1)
    mean_lr, rate = np.full(n_bins, np.nan), np.full(n_bins, np.nan)
    for i in range(n_bins):
        in_lr = (lr_steps >= edges[i]) & (lr_steps < edges[i + 1])
        in_loss = (trend.steps >= edges[i]) & (trend.steps < edges[i + 1])
        if in_lr.any() and in_loss.any():
            mean_lr[i] = float(np.mean(log_lr[in_lr]))
            rate[i] = -float(np.mean(trend.slope[in_loss]))
    return mean_lr, rate


def _spearman(x: FloatArray, y: FloatArray) -> tuple[float, float, float]:
    """Spearman correlation, its two-sided p-value and one-sided Fisher z (NaN if undefined)."""
    from scipy.stats import spearmanr

    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < _MIN_BINS or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return _NAN, _NAN, _NAN
    result = spearmanr(x[ok], y[ok])
    rho = float(np.clip(result.statistic, -0.999999, 0.999999))
    z = math.atanh(rho) * math.sqrt((ok.sum() - 3) / 1.06)
    return rho, float(result.pvalue), z


def _drop_response(trend: SmoothedCurve, drop: int, window: float) -> tuple[float, float]:
    """Fall of the loss after an LR drop beyond its prior trend (decades), and its SE.

    A straight line is fitted to the observed (binned) values of the ``2 window`` steps
    before the drop and extrapolated over the ``window`` steps after it; the response is
    the mean of the extrapolation minus the observed values after the drop, its SE the
    prediction SE of that mean (residual SD of the fit; noise taken as independent).
    The raw binned values are used, not the smoothed level, which anticipates a step.
    """
    x, y = trend.steps.astype(float), trend.observed
    ok = np.isfinite(y)
    before = ok & (x >= drop - 2 * window) & (x < drop)
    after = ok & (x >= drop) & (x <= drop + window)
    if before.sum() < 4 or after.sum() < 2 or drop + window > x[-1]:
        return _NAN, _NAN
    xb, yb = x[before], y[before]
    slope, intercept = np.polyfit(xb, yb, 1)
    resid_sd = float(np.std(yb - (slope * xb + intercept), ddof=2))
    response = float(np.mean(slope * x[after] + intercept - y[after]))
    sxx = float(np.sum((xb - xb.mean()) ** 2))
    lever = (float(np.mean(x[after])) - float(xb.mean())) ** 2 / sxx
    se = resid_sd * math.sqrt(1.0 / after.sum() + 1.0 / before.sum() + lever)
    return response, se


@dataclass(frozen=True, slots=True)
class LRScheduleDetector:
    """The learning rate seen through the loss: too high, too low, or an ineffective schedule.

    Parameters
    ----------
    n_bins : int, default=20
        The run is cut into this many equal windows of steps (5 % each); each gives a
        mean log10 LR and a mean smoothed loss slope.
    min_improvement_decades : float, default=0.1
        Total fall of the log10 loss below which a still-improving run counts as held
        back by its LR (as `ProgressDetector`'s stall threshold).
    drop_factor : float, default=0.5
        The LR falling below this factor of its value 2 % of the run earlier is a drop.
    response_window_frac : float, default=0.05
        Window (fraction of the run) over which the loss response to a drop is measured.

    Notes
    -----
    After the warm-up (bins from the one where the LR peaks), ``rho`` is the Spearman
    correlation between log LR and the loss's rate of fall across bins, with its p-value
    and Fisher ``z = atanh(rho) sqrt((n - 3) / 1.06)``.

    - ``lr_too_high``: ``max(0, -z) / 1.645``: 1.0 when progress is faster at lower LR at
      one-sided 5 % significance. A schedule decays the LR as progress naturally slows,
      which biases ``rho`` upwards, so a negative ``rho`` is strong evidence.
    - ``lr_too_low``: ``min(min_improvement / G, 100) * p_improving``, with ``G`` the
      loss's total fall (decades) and ``p_improving`` = P(it still falls over the last
      third): a run that improves little but steadily is held back by its step size; a
      stuck run (``p_improving`` small) is not.
    - ``lr_schedule_ineffective``: for each LR drop with a full response window, ``p`` =
      P(the loss fell beyond its prior trend after the drop) (`_drop_response`); score
      ``(1 - max p) / 0.5``: 1.0 when not even the most effective drop gave a detectable
      response, 2.0 when the loss got worse after every drop; 0 without measurable drops
      (smooth schedules qualify only where they halve the LR within 2 % of the run).

    ``best_lr_low``/``best_lr_high`` bound the LR of the bins in the top quarter of
    progress. ``suggested_lr``: the peak LR times ``min(min_improvement / G, 100)`` when
    the LR looks too low (linear-regime extrapolation to a healthy improvement); the
    upper end of the best range when it looks too high; the geometric middle of the best
    range otherwise.
    """

    name: ClassVar[str] = "lr_schedule"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss", "learning_rate"})
    kinds: ClassVar[tuple[str, ...]] = ("lr_too_high", "lr_too_low", "lr_schedule_ineffective")
    n_bins: int = 20
    min_improvement_decades: float = 0.1
    drop_factor: float = 0.5
    response_window_frac: float = 0.05

    def __post_init__(self) -> None:
        check_int(self, "n_bins", low=_MIN_BINS, high=1000)
        check_float(self, "min_improvement_decades", low=0.0, low_open=True)
        check_float(self, "drop_factor", low=0.0, high=1.0, low_open=True)
        check_float(self, "response_window_frac", low=0.0, high=0.5, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return evidence for ``lr_too_high``, ``lr_too_low`` and ``lr_schedule_ineffective``.

        Examples
        --------
        >>> from dynamics_stats import validate_run
        >>> from dynamics_stats.curves import model_curves
        >>> from dynamics_stats.io.synthetic import make_run
        >>> run = model_curves(validate_run(make_run("stalled", seed=2)[0]))
        >>> high, low, schedule = LRScheduleDetector().detect(run)
        >>> low.kind, low.score > 1.0
        ('lr_too_low', True)
        """
        loss, lr = run.artifacts.get("train_loss"), run.artifacts.get("learning_rate")
        trend = None if loss is None else trend_of(run, loss)
        lr_ok = lr is not None and np.sum(np.isfinite(lr.values) & (lr.values > 0)) >= 2
        if loss is None or lr is None or trend is None or not lr_ok or not trend.log_scale:
            return ()
        mean_lr, rate = _binned_lr_and_rate(trend, lr, self.n_bins)
        peak = int(np.nanargmax(mean_lr))
        rho, p_value, z = _spearman(mean_lr[peak:], rate[peak:])
        best_low, best_high = self._best_range(mean_lr[peak:], rate[peak:])
        span = float(trend.steps[-1] - trend.steps[0])
        fall, p_improving, factor = self._held_back(trend, span)
        high = max(0.0, -z) / 1.645 if math.isfinite(z) else 0.0
        low = factor * p_improving
        schedule, drop_values, drops = self._schedule(trend, lr, span)
        peak_lr = float(10.0 ** np.nanmax(mean_lr))
        suggested = self._suggest(high, low, peak_lr * factor, best_low, best_high)
        common: Pairs = (
            ("lr_slope_spearman", rho),
            ("lr_slope_p_value", p_value),
            ("lr_slope_z", z),
            ("best_lr_low", best_low),
            ("best_lr_high", best_high),
            ("suggested_lr", suggested),
            ("peak_lr", peak_lr),
            ("improvement_decades", fall),
            ("p_improving_late", p_improving),
            ("used_fallback", float(is_fallback(trend))),
        )
        return (
            self._evidence("lr_too_high", high, loss.name, common, ()),
            self._evidence("lr_too_low", low, loss.name, common, ()),
            self._evidence(
                "lr_schedule_ineffective", schedule, loss.name, common + drop_values, drops
            ),
        )

    def _held_back(self, trend: SmoothedCurve, span: float) -> tuple[float, float, float]:
        """Total fall, P(still falling over the last third), and the too-low factor."""
        fall, _ = improvement(trend)
        last_third = int(trend.steps[-1] - span / 3)
        p_improving = slope_probability(
            trend, start_step=last_third, end_step=int(trend.steps[-1]), positive=False
        )
        return fall, p_improving, min(self.min_improvement_decades / max(fall, 1e-12), 100.0)

    @staticmethod
    def _best_range(mean_lr: FloatArray, rate: FloatArray) -> tuple[float, float]:
        """Return the LR range (min, max) of the bins in the top quarter of progress."""
        ok = np.isfinite(mean_lr) & np.isfinite(rate)
        if ok.sum() < 2:
            return _NAN, _NAN
        lr_ok, rate_ok = mean_lr[ok], rate[ok]
        top = rate_ok >= np.quantile(rate_ok, 0.75)
        return float(10.0 ** lr_ok[top].min()), float(10.0 ** lr_ok[top].max())

    def _schedule(
        self, trend: SmoothedCurve, lr: MetricSeries, span: float
    ) -> tuple[float, Pairs, tuple[int, ...]]:
        """Score of LR drops without a loss response, its numbers and the drop steps."""
        from scipy.special import ndtr

        drops = lr_drop_steps(lr, factor=self.drop_factor, window=max(int(0.02 * span), 1))
        window = self.response_window_frac * span
        responses = [_drop_response(trend, d, window) for d in drops]
        measured = [(r, se) for r, se in responses if math.isfinite(r) and se > 0]
        p = [float(ndtr(r / se)) for r, se in measured]
        score = (1.0 - max(p)) / 0.5 if p else 0.0
        values = (
            ("n_lr_drops", float(len(drops))),
            ("n_lr_drops_measured", float(len(measured))),
            ("mean_drop_response_decades", float(np.mean([r for r, _ in measured])) if p else _NAN),
            ("max_p_drop_response", max(p) if p else _NAN),
        )
        return score, values, drops[:50]

    @staticmethod
    def _suggest(
        high: float, low: float, raised: float, best_low: float, best_high: float
    ) -> float:
        if low >= 1.0 and low >= high:
            return raised
        if high >= 1.0:
            return best_high
        return math.sqrt(best_low * best_high) if math.isfinite(best_low) else _NAN

    def _evidence(
        self, kind: str, score: float, metric: str, values: Pairs, steps: tuple[int, ...]
    ) -> Evidence:
        present = score >= 1.0
        facts = dict(values)
        text = {
            "lr_too_high": "the loss progresses faster at lower learning rates "
            f"(Spearman {facts['lr_slope_spearman']:.2f}); try about {facts['suggested_lr']:.3g}",
            "lr_too_low": f"the loss fell only {facts['improvement_decades']:.3g} decades and is "
            f"still falling steadily; try a learning rate near {facts['suggested_lr']:.3g}",
            "lr_schedule_ineffective": "the learning-rate drops did not speed up the loss's fall",
        }[kind]
        return Evidence(
            kind=kind,
            detector=self.name,
            score=float(score),
            metric=metric,
            severity="warning" if present else "info",
            values=values,
            steps=steps,
            message=f"{metric}: {text if present else 'no sign of ' + kind.replace('_', ' ')}.",
        )
