"""`OscillationDetector`: persistent swings or high volatility of the loss, not spikes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import BoolArray, FloatArray, IntArray
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import (
    finite_part,
    level_of,
    log_scale,
    mad_sd,
    median_interval,
    rolling_mean,
    rolling_median,
    run_span,
    values_at,
    window_steps,
)
from dynamics_stats.detectors.base import Evidence

__all__ = ["OscillationDetector"]

_MIN_POINTS = 20
_WINDOW_POINTS = 30  # a volatility window holds at least this many logged points
_MIN_SPECTRUM = 32  # fewer residuals: no periodicity test
_PRESENT = 1.5  # score from which the evidence is rated a warning
Values = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class _Periodicity:
    """Strongest periodic component of the late residuals."""

    prominence: float  # peak / local median of the periodogram, over its null expectation
    amplitude: float  # amplitude of the component, on the analysed scale
    noise_sd: float  # SD of the residuals without the component
    period_steps: float

    @property
    def to_noise(self) -> float:
        """Return the amplitude over the SD of the other residuals."""
        return float(self.amplitude / max(self.noise_sd, 1e-12))


def _periodicity(steps: IntArray, r: FloatArray) -> _Periodicity:
    """Return the spectral peak of residuals resampled to a regular grid (NaN-free)."""
    from scipy.ndimage import median_filter

    interval = max(median_interval(steps), 1.0)
    grid = np.arange(steps[0], steps[-1] + 1, interval)
    x = np.interp(grid, steps.astype(float), r)
    x = x - x.mean()
    m = len(x)
    power = np.abs(np.fft.rfft(x))[1:] ** 2
    if m < _MIN_SPECTRUM or not power.any():
        return _Periodicity(0.0, 0.0, float(np.std(x)), float("nan"))
    local = median_filter(power, size=min(max(11, (len(power) // 20) | 1), 201), mode="mirror")
    ratio = power / np.maximum(local, 1e-300)
    peak = int(np.argmax(ratio))
    null = (np.log(len(power)) + 0.5772) / np.log(2.0)
    near = slice(max(peak - 1, 0), peak + 2)
    amplitude = float(2.0 * np.sqrt(power[near].sum()) / m)
    rest = max(2.0 * float(power.sum() - power[near].sum()) / m**2, 1e-300)
    period = float(m * interval / (peak + 1))
    return _Periodicity(float(ratio[peak] / null), amplitude, float(np.sqrt(rest)), period)


def _window_sds(steps: IntArray, x: FloatArray, width: int) -> tuple[IntArray, FloatArray]:
    """Return the start step and MAD SD of ``x`` in consecutive windows of ``width`` steps."""
    edges = np.arange(steps[0], steps[-1] + 1, width)
    which = np.searchsorted(edges, steps, side="right") - 1
    starts, sds = [], []
    for k in range(len(edges)):
        chunk = x[which == k]
        if np.isfinite(chunk).sum() >= _WINDOW_POINTS // 2:
            starts.append(int(edges[k]))
            sds.append(mad_sd(chunk))
    return np.asarray(starts, dtype=np.int64), np.asarray(sds, dtype=float)


@dataclass(frozen=True, slots=True, eq=False)
class _Rise:
    """How a windowed SD rose: late median over the calm level, and the high windows."""

    contrast: float
    starts: IntArray
    high: BoolArray  # windows above sqrt(calm * late)

    @property
    def onset(self) -> int | None:
        """Return where the last stretch of high windows (single dips bridged) begins."""
        high = self.high
        if not high.any():
            return None
        calm_pairs = np.flatnonzero(~high[:-1] & ~high[1:])
        after = calm_pairs[-1] + 2 if len(calm_pairs) else 0
        rest = np.flatnonzero(high[after:])
        return int(self.starts[after + rest[0]]) if len(rest) else None


def _rise(starts: IntArray, sds: FloatArray, half: float, calm_quantile: float) -> _Rise:
    if len(sds) < 4:
        return _Rise(1.0, starts, np.zeros(len(sds), dtype=bool))
    late = float(np.median(sds[starts >= half])) if (starts >= half).any() else float(sds[-1])
    calm = float(np.quantile(sds, calm_quantile))
    contrast = late / calm if calm > 0 else 1.0
    return _Rise(contrast, starts, sds > np.sqrt(calm * late))


def _noise_rise(steps: IntArray, y: FloatArray, width: int, calm_quantile: float) -> _Rise:
    """Return the rise of the noise SD, estimated from second differences.

    ``MAD SD(d2 y) / sqrt(6)`` estimates the SD of white noise around any locally linear
    trend, so the falling curve itself adds nothing.
    """
    d2 = np.concatenate(([np.nan], np.diff(y, 2), [np.nan])) / np.sqrt(6.0)
    starts, sds = _window_sds(steps, d2, width)
    return _rise(starts, sds, steps[0] + 0.5 * run_span(steps), calm_quantile)


@dataclass(frozen=True, slots=True)
class OscillationDetector:
    """Persistent oscillation or high volatility of the loss without spike-and-recover.

    Parameters
    ----------
    trend_frac : float, default=0.05
        Window of the centred rolling median (and mean) that gives the loss trend, as a
        fraction of the run: wide enough to span several cycles of a fast oscillation,
        so the swings stay in the residuals.
    window_frac : float, default=0.05
        Width of the windows in which the noise SD is measured, as a fraction of the run
        (at least 30 logged points).
    calm_quantile : float, default=0.1
        The run's normal noise level is this quantile of its window noise SDs (its calm
        periods).
    reference_decades : float, default=0.2
        Residual volatility that counts fully as "high": a robust SD of 0.2 decades is a
        typical swing of x1.6 around the trend, well above the per-step noise of the
        noisiest healthy public run we measured (0.12 decades, a small-batch regression).
    lr_drop : float, default=0.5
        The learning rate counts as dropped when its median over the last quarter of the
        run is at most this fraction of its peak.

    Notes
    -----
    The loss is analysed as ``log10`` (or divided by its range when not positive).
    Three measures:

    - Noise rise: the noise SD of window ``k`` is ``1.4826 MAD(second differences) /
      sqrt(6)`` (blind to any locally linear trend); the contrast ``c`` is its median
      over the windows of the second half of the run divided by the calm level
      (``calm_quantile`` of all windows, at least 4 of them).
    - Periodicity: the periodogram of the late residuals around a centred rolling mean
      is divided by its running median (so coloured noise stays flat) and its peak by
      the expected maximum for white noise, ``(ln K + 0.577) / ln 2``; the prominence
      ``P`` is about 1 for noise. The component's amplitude ``A`` (from the peak's power)
      is compared with the SD ``s`` of the other residuals. Alternating steps show as a
      peak at the shortest period (their lag-1 autocorrelation is reported).
    - Level: the robust SD ``v`` of the late residuals around a centred rolling median.

    The windowed SD of the residuals around the rolling mean (swings of any period up to
    the trend window) gives the persistence (fraction of windows above ``sqrt(calm x
    late)``) and the onset: the start of the last stretch of such windows (single dips
    bridged) when the swings rose at least 1.5-fold, else the first step (they were
    there from the start).

    Score: ``(max(0, log2 c) + clip(P - 1, 0, 1) A / s + v / reference_decades) f_lr``;
    each term reaches 1 at its reference (late noise twice the calm level, a clear
    periodic swing as large as the noise, a volatility of ``reference_decades``), and
    from 1.5 the evidence is rated a warning. ``f_lr`` (at most 1) is the ratio of the
    volatility after and before a learning-rate drop, when the LR dropped: noise that
    falls with the LR is healthy. Invariant to multiplying the loss by a constant;
    windows are in steps. The first two terms do not depend on the logging interval; the
    level does, as a logged interval mean averages noise away (per-epoch logs hide fast
    swings altogether). Isolated spikes barely move a MAD, so they do not count.

    Progress over the second half (from the curve model, or a rolling-median fallback)
    is reported, not scored: healthy runs also progress little late in training, and
    weighting the level by it lowered the separation on the synthetic corpus. Volatility
    that is high from the first step without a periodic pattern cannot be told from
    noisy but healthy small-batch training on the loss alone.

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.curves.types import ModelledRun
    >>> from dynamics_stats.io.synthetic import make_run
    >>> run, _ = make_run("oscillation", n_steps=3000, seed=1)
    >>> (evidence,) = OscillationDetector().detect(ModelledRun(validate_run(run)))
    >>> evidence.kind, evidence.score >= 1.5
    ('oscillation', True)
    """

    name: ClassVar[str] = "oscillation"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("oscillation",)
    trend_frac: float = 0.05
    window_frac: float = 0.05
    calm_quantile: float = 0.1
    reference_decades: float = 0.2
    lr_drop: float = 0.5

    def __post_init__(self) -> None:
        check_float(self, "trend_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "window_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "calm_quantile", low=0.0, high=0.5)
        check_float(self, "reference_decades", low=0.0, low_open=True)
        check_float(self, "lr_drop", low=0.0, high=1.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"oscillation"`` (none without a train loss).

        Parameters
        ----------
        run : ModelledRun
            The modelled run.

        Returns
        -------
        tuple of Evidence
        """
        loss = run.artifacts.get("train_loss")
        if loss is None:
            return ()
        steps, values = finite_part(loss)
        if len(steps) < _MIN_POINTS:
            return (self._evidence(loss.name, 0.0, (("n_points", float(len(steps))),), None),)
        y, is_log = log_scale(values)
        if not is_log:
            y = y / max(float(np.ptp(y)), 1e-12)
        values_, score, onset = self._measure(run, loss, steps, y)
        unit = "decades" if is_log else "range_units"
        values_ = tuple((f"volatility_{unit}" if k == "volatility" else k, v) for k, v in values_)
        return (self._evidence(loss.name, score, values_, onset),)

    def _measure(
        self, run: ModelledRun, loss: MetricSeries, steps: IntArray, y: FloatArray
    ) -> tuple[Values, float, int | None]:
        """Return the values, the score and the onset of one run's loss on its scale."""
        trend_window = window_steps(steps, frac=self.trend_frac, min_points=7)
        width = window_steps(steps, frac=self.window_frac, min_points=_WINDOW_POINTS)
        half = steps[0] + 0.5 * run_span(steps)
        level = mad_sd((y - rolling_median(steps, y, window=trend_window))[steps >= half])
        noise = _noise_rise(steps, y, width, self.calm_quantile)
        r = y - rolling_mean(steps, y, window=trend_window)
        swings = _rise(*_window_sds(steps, r, width), half, self.calm_quantile)
        period = _periodicity(steps[steps >= half], r[steps >= half])
        f_lr, lr_ratio = self._lr_factor(run, steps, r)
        periodic = float(np.clip(period.prominence - 1.0, 0.0, 1.0)) * period.to_noise
        score = max(0.0, np.log2(noise.contrast)) + periodic + level / self.reference_decades
        score = float(score * f_lr)
        progress, fallback = self._progress(run, loss, steps)
        values: Values = (
            ("volatility", level),
            ("noise_contrast", noise.contrast),
            ("swing_contrast", swings.contrast),
            ("persistence_frac", float(swings.high.mean()) if len(swings.high) else 0.0),
            ("periodicity", period.prominence),
            ("periodic_amplitude_to_noise", period.to_noise),
            ("period_steps", period.period_steps),
            ("lag1_autocorr", _lag1(r[steps >= half])),
            ("late_progress", progress),
            ("lr_late_to_peak", lr_ratio),
            ("lr_volatility_factor", f_lr),
            ("window_steps", float(width)),
            ("used_fallback", float(fallback)),
        )
        # a rise of the swings dates the onset; without one they were there from the start
        dated = swings.onset if swings.contrast >= 1.5 else None
        onset = (dated if dated is not None else int(steps[0])) if score >= _PRESENT else None
        return values, score, onset

    def _lr_factor(self, run: ModelledRun, steps: IntArray, r: FloatArray) -> tuple[float, float]:
        """Volatility after / before an LR drop (capped at 1), and late LR / peak LR."""
        lr = run.artifacts.get("learning_rate")
        if lr is None or not (np.isfinite(lr.values) & (lr.values > 0)).any():
            return 1.0, float("nan")
        rate = values_at(lr, steps)
        peak = int(np.nanargmax(rate))
        late: BoolArray = steps >= steps[0] + 0.75 * run_span(steps)
        ratio = float(np.nanmedian(rate[late]) / rate[peak])
        before = (steps >= steps[peak]) & (rate >= 0.9 * rate[peak])
        if ratio > self.lr_drop or before.sum() < _WINDOW_POINTS or late.sum() < _WINDOW_POINTS:
            return 1.0, ratio
        fall = mad_sd(r[late]) / max(mad_sd(r[before]), 1e-12)
        return float(np.clip(fall, 0.0, 1.0)), ratio

    @staticmethod
    def _progress(run: ModelledRun, loss: MetricSeries, steps: IntArray) -> tuple[float, bool]:
        """Fall of the loss trend over the second half of the run, and whether it fell back."""
        trend = level_of(run, loss)
        if trend is None:
            return 0.0, True
        ends = np.array([steps[0] + 0.5 * run_span(steps), steps[-1]], dtype=np.int64)
        level = trend.at(ends)
        scale = 1.0 if trend.log_scale else max(float(np.ptp(trend.level)), 1e-12)
        return float(level[0] - level[1]) / scale, trend.used_fallback

    def _evidence(self, metric: str, score: float, values: Values, onset: int | None) -> Evidence:
        present = score >= _PRESENT
        return Evidence(
            kind="oscillation",
            detector=self.name,
            score=score,
            metric=metric,
            onset_step=onset,
            severity="warning" if present else "info",
            values=values,
            message="The loss swings persistently around its trend without settling."
            if present
            else "No persistent oscillation of the loss.",
        )


def _lag1(r: FloatArray) -> float:
    if len(r) < 4 or np.std(r) == 0:
        return 0.0
    return float(np.corrcoef(r[:-1], r[1:])[0, 1])
