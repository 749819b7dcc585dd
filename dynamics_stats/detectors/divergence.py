"""`DivergenceDetector`: the loss becomes NaN/inf, or grows about tenfold and stays up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import log_scale, rolling_median, value_at, window_steps
from dynamics_stats.detectors.base import Evidence

__all__ = ["DivergenceDetector"]


def _first_nonfinite(series: MetricSeries | None, *, after_finite: bool = False) -> int | None:
    """First step where a series is NaN/inf.

    With ``after_finite``, only a series that had been finite counts: a validation loss
    that is NaN from its first point on was never computed (a logging problem), which is
    not evidence of divergence.
    """
    if series is None:
        return None
    finite = np.isfinite(series.values)
    bad = ~finite
    if after_finite:
        if not finite.any():
            return None
        bad &= np.arange(len(finite)) > int(np.argmax(finite))
    return int(series.steps[bad][0]) if bad.any() else None


@dataclass(frozen=True, slots=True)
class DivergenceDetector:
    """The loss becomes NaN/inf, or grows by about an order of magnitude and does not recover.

    Parameters
    ----------
    smooth_frac : float, default=0.03
        Width of the centred rolling median that smooths the log loss, as a fraction of
        the run (at least 5 logged points).
    end_frac : float, default=0.05
        The "end level" is the median smoothed log loss over this last fraction of the run.

    Notes
    -----
    Score scale: with a finite loss, the score is the rise of the smoothed loss at the end
    of the run above its running minimum, in decades (1.0 = the loss ended ten times above
    its best level, the "present" threshold). A non-finite train loss (or a non-finite
    gradient norm next to a finite loss, which the HF Trainer produces when it hides NaN
    losses) scores ``3 + f`` where ``f`` is the fraction of the run after the first
    non-finite value. For losses that are not all positive, the rise is measured in units
    of the loss's total range during the run. The score is invariant to multiplying the
    loss by a constant and to the logging interval (windows are in steps).

    Examples
    --------
    >>> DivergenceDetector().name
    'divergence'
    """

    name: ClassVar[str] = "divergence"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("divergence",)
    smooth_frac: float = 0.03
    end_frac: float = 0.05

    def __post_init__(self) -> None:
        check_float(self, "smooth_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "end_frac", low=0.0, high=0.5, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"divergence"``."""
        loss = run.artifacts.get("train_loss")
        if loss is None or len(loss) == 0:
            return ()
        lr = run.artifacts.get("learning_rate")
        onset = _first_nonfinite(loss)
        hidden = _first_nonfinite(run.artifacts.get("grad_norm"))
        if onset is None and hidden is not None:
            onset = hidden
        if onset is None:
            onset = _first_nonfinite(run.artifacts.get("val_loss"), after_finite=True)
        if onset is not None:
            return (self._nonfinite(loss, onset, lr, hidden_only=hidden == onset),)
        return (self._growth(loss, lr),)

    def _nonfinite(
        self, loss: MetricSeries, onset: int, lr: MetricSeries | None, *, hidden_only: bool
    ) -> Evidence:
        span = max(int(loss.steps[-1] - loss.steps[0]), 1)
        after = float(np.clip((loss.steps[-1] - onset) / span, 0.0, 1.0))
        n_bad = int((~np.isfinite(loss.values)).sum())
        where = "the gradient norm" if hidden_only else "the loss"
        return Evidence(
            kind="divergence",
            detector=self.name,
            score=3.0 + after,
            metric=loss.name,
            onset_step=onset,
            severity="critical",
            values=(
                ("nonfinite", 1.0),
                ("n_nonfinite_loss", float(n_bad)),
                ("frac_run_after_onset", after),
                ("hidden_by_trainer", float(hidden_only)),
                ("lr_at_onset", value_at(lr, onset)),
            ),
            steps=tuple(int(s) for s in loss.steps[~np.isfinite(loss.values)][:50]),
            message=f"{where.capitalize()} became NaN or infinite at step {onset:,}.",
        )

    @staticmethod
    def _onset(steps: np.ndarray, excess: np.ndarray, best_pos: int) -> int | None:  # type: ignore[type-arg]
        """First step of the final excursion: after the last point within 0.1 of the minimum."""
        near = np.flatnonzero(excess[best_pos:] <= 0.1) + best_pos
        last = int(near[-1]) if len(near) else best_pos
        return int(steps[min(last + 1, len(steps) - 1)])

    def _growth(self, loss: MetricSeries, lr: MetricSeries | None) -> Evidence:
        y, is_log = log_scale(loss.values)
        steps = loss.steps
        smooth = rolling_median(steps, y, window=window_steps(steps, frac=self.smooth_frac))
        scale = 1.0 if is_log else max(float(np.nanmax(smooth) - np.nanmin(smooth)), 1e-12)
        running_min = np.fmin.accumulate(smooth)
        end = steps >= steps[-1] - self.end_frac * max(steps[-1] - steps[0], 1)
        end_level = float(np.nanmedian(smooth[end]))
        best_pos = int(np.nanargmin(smooth))
        rise = (end_level - float(running_min[-1])) / scale
        excess = (smooth - running_min) / scale
        onset = self._onset(steps, excess, best_pos) if rise > 0 else None
        present = rise >= 1.0
        return Evidence(
            kind="divergence",
            detector=self.name,
            score=float(max(rise, 0.0)),
            metric=loss.name,
            onset_step=onset if present or rise > 0.3 else None,
            severity="critical" if present else "info",
            values=(
                ("nonfinite", 0.0),
                ("rise_decades" if is_log else "rise_range_units", rise),
                ("best_step", float(steps[best_pos])),
                ("max_excursion", float(np.nanmax(excess))),
                ("lr_at_onset", value_at(lr, onset) if onset is not None else float("nan")),
            ),
            message=(
                f"The loss rose {10**rise:.1f}x above its best level and did not recover."
                if present and is_log
                else "The loss did not run away."
                if not present
                else "The loss rose far above its best level and did not recover."
            ),
        )
