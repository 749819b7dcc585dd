"""`DivergenceDetector`: the loss becomes NaN/inf, or grows about tenfold and stays up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.types import Severity
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import (
    Level,
    first_nonfinite,
    level_of,
    nonfinite_persistence,
    run_span,
    tail_mask,
    value_at,
)
from dynamics_stats.detectors.base import Evidence

__all__ = ["DivergenceDetector"]

Values = tuple[tuple[str, float], ...]

# Non-finite evidence: score = base + gain * persistence, by where the NaN/inf shows.
_NONFINITE = {"train_loss": (2.0, 2.0), "val_loss": (1.0, 2.0), "grad_norm": (0.5, 2.5)}


@dataclass(frozen=True, slots=True)
class _Growth:
    """Runaway growth of the trend: rise at the end, peak rise, best step, onset."""

    rise: float
    max_rise: float
    best_step: int
    onset: int | None


@dataclass(frozen=True, slots=True)
class _NonFinite:
    """Where and how persistently a metric became NaN/inf."""

    role: str
    step: int
    persistence: float
    score: float


@dataclass(frozen=True, slots=True)
class DivergenceDetector:
    """The loss becomes NaN/inf, or grows by about an order of magnitude and does not recover.

    Parameters
    ----------
    smooth_frac : float, default=0.03
        Window of the centred rolling median that stands in for the curve model when
        the train-loss curve is missing or failed, as a fraction of the run.
    end_frac : float, default=0.02
        The end level is the median trend over this last fraction of the run (at least
        the last point): short enough that a blow-up in the last few percent counts.
    near_decades : float, default=0.05
        The final excursion starts after the last point within this many decades (x1.12;
        range units for losses that are not positive) of the running minimum; the onset
        is the latest probable changepoint of the loss (curve layer) between 5 % of the run
        before the best step and that point, or that point itself.

    Notes
    -----
    Growth: the trend (the state-space curve model of the train loss, on ``log10``, or a
    rolling median fallback with ``("used_fallback", 1.0)``) is compared with its running
    minimum; ``rise`` is the end level minus the lowest level, in decades (for losses that
    are not all positive, in units of the trend's range, so at most 1). A loss that
    rose and came back has a large ``max_rise`` but a small ``rise``.

    Non-finite values: the first NaN/inf of the train loss scores ``2 + 2p``, where ``p``
    is the fraction of points from there on that are non-finite (4 = it never
    recovered); without one, a NaN/inf gradient norm next to a finite loss (the HF
    Trainer hides NaN losses) scores ``0.5 + 2.5p`` (a lone overflow skipped by a mixed
    precision loss scaler scores about 0.5, a norm that stays NaN 3); a validation loss
    that turns NaN/inf after being finite, the only such signal, scores ``1 + 2p``.

    Score scale: ``max(rise, non-finite score)``; 1.0 means the loss ended ten times above
    its best level (critical from 1.0, warning from 0.5), above 2 a NaN/inf train loss.
    It does not change when the loss is multiplied by a constant, and windows are in
    steps, so the logging interval does not change it beyond sampling noise. ``steps``
    lists the first NaN/inf steps of the metric that showed them.

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.curves.types import ModelledRun
    >>> from dynamics_stats.io.synthetic import make_run
    >>> run, truth = make_run("divergence", n_steps=1000, seed=4)
    >>> (evidence,) = DivergenceDetector().detect(ModelledRun(validate_run(run)))
    >>> evidence.score >= 1.0, evidence.severity
    (True, 'critical')
    """

    name: ClassVar[str] = "divergence"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("divergence",)
    smooth_frac: float = 0.03
    end_frac: float = 0.02
    near_decades: float = 0.05

    def __post_init__(self) -> None:
        check_float(self, "smooth_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "end_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "near_decades", low=0.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"divergence"`` (none without a train loss).

        Parameters
        ----------
        run : ModelledRun
            The modelled run.

        Returns
        -------
        tuple of Evidence
        """
        loss = run.artifacts.get("train_loss")
        if loss is None or not len(loss):
            return ()
        trend = level_of(run, loss, fallback_frac=self.smooth_frac)
        growth = self._growth(run, loss, trend) if trend is not None else None
        bad = _nonfinite(run)
        rise = growth.rise if growth is not None else 0.0
        score = max(rise, bad.score if bad is not None else 0.0, 0.0)
        onset = _onset(growth, bad)
        lr = run.artifacts.get("learning_rate")
        values = _values(growth, bad, trend, loss) + (
            ("lr_at_onset", value_at(lr, onset) if onset is not None else float("nan")),
        )
        severity: Severity = "critical" if score >= 1.0 else "warning" if score >= 0.5 else "info"
        shown = loss if bad is None else run.artifacts.get(bad.role)  # type: ignore[arg-type]
        nonfinite_steps = shown.steps[~np.isfinite(shown.values)][:50] if shown else ()
        return (
            Evidence(
                kind="divergence",
                detector=self.name,
                score=float(score),
                metric=loss.name,
                onset_step=onset if score >= 0.3 else None,
                severity=severity,
                values=values,
                steps=tuple(int(s) for s in nonfinite_steps),
                message=_message(growth, bad, trend, score),
            ),
        )

    def _growth(self, run: ModelledRun, loss: MetricSeries, trend: Level) -> _Growth:
        steps, level = trend.steps, trend.level
        scale = 1.0 if trend.log_scale else max(float(np.ptp(level)), 1e-12)
        excess = (level - np.fmin.accumulate(level)) / scale
        end = float(np.median(level[tail_mask(steps, self.end_frac)]))
        best = int(np.argmin(level))
        rise = (end - float(level[best])) / scale
        near = np.flatnonzero(excess <= self.near_decades)
        crossing = int(steps[min(int(near[-1]) + 1, len(steps) - 1)])
        onset = crossing if rise > self.near_decades else None
        if onset is not None:
            window = (int(steps[best]) - int(0.05 * run_span(steps)), crossing)
            onset = _latest_changepoint(run, loss.name, window) or crossing
        return _Growth(float(rise), float(excess.max()), int(steps[best]), onset)


def _latest_changepoint(run: ModelledRun, metric: str, window: tuple[int, int]) -> int | None:
    """Return the latest probable changepoint step of ``metric`` in ``window`` (or None)."""
    found = [
        c.step
        for c in run.changepoints.get(metric, ())
        if window[0] <= c.step <= window[1] and c.probability >= 0.5
    ]
    return max(found) if found else None


def _nonfinite(run: ModelledRun) -> _NonFinite | None:
    """Return the first non-finite signal of the train loss, else grad norm, else val loss."""
    for role in ("train_loss", "grad_norm", "val_loss"):
        series = run.artifacts.get(role)
        if series is None or not len(series):
            continue
        # leading NaN of a metric that later turns finite were never computed; a metric
        # with no finite value at all counts from its first point
        never = not np.isfinite(series.values).any()
        step = int(series.steps[0]) if never else first_nonfinite(series, after_finite=True)
        if step is not None:
            persistence = nonfinite_persistence(series, step)
            base, gain = _NONFINITE[role]
            return _NonFinite(role, step, persistence, base + gain * persistence)
    return None


def _onset(growth: _Growth | None, bad: _NonFinite | None) -> int | None:
    """Return the start of the runaway growth, unless the NaN/inf came first or alone."""
    grew = growth.onset if growth is not None and growth.rise >= 0.3 else None
    if bad is None:
        return growth.onset if growth is not None else None
    return grew if grew is not None and grew <= bad.step else bad.step


def _values(
    growth: _Growth | None, bad: _NonFinite | None, trend: Level | None, loss: MetricSeries
) -> Values:
    unit = "decades" if trend is None or trend.log_scale else "range_units"
    rise = growth.rise if growth is not None else 0.0
    max_rise = growth.max_rise if growth is not None else 0.0
    return (
        ("nonfinite", float(bad is not None)),
        ("nonfinite_train_loss", float(bad is not None and bad.role == "train_loss")),
        ("nonfinite_grad_norm", float(bad is not None and bad.role == "grad_norm")),
        ("nonfinite_val_loss", float(bad is not None and bad.role == "val_loss")),
        ("nonfinite_persistence", bad.persistence if bad is not None else 0.0),
        ("nonfinite_step", float(bad.step) if bad is not None else float("nan")),
        ("n_nonfinite_loss", float((~np.isfinite(loss.values)).sum())),
        (f"rise_{unit}", rise),
        (f"max_rise_{unit}", max_rise),
        ("recovered_frac", 1.0 - rise / max_rise if max_rise > 0 else 0.0),
        ("best_step", float(growth.best_step) if growth is not None else float("nan")),
        ("used_fallback", float(trend is None or trend.used_fallback)),
    )


def _message(
    growth: _Growth | None, bad: _NonFinite | None, trend: Level | None, score: float
) -> str:
    if bad is not None and score == bad.score:
        what = {
            "train_loss": "The loss",
            "grad_norm": "The gradient norm (with a finite loss)",
            "val_loss": "The validation loss",
        }[bad.role]
        stay = " and stayed so" if bad.persistence >= 0.99 else ""
        return f"{what} became NaN or infinite at step {bad.step:,}{stay}."
    if growth is None or score < 1.0:
        return "The loss did not run away."
    if trend is not None and trend.log_scale:
        return (
            f"The loss rose {10**growth.rise:.0f}x above its best level (step "
            f"{growth.best_step:,}) and did not recover."
        )
    return "The loss rose far above its best level and did not recover."
