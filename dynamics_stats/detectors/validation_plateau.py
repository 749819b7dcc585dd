"""`ValidationPlateauDetector`: the validation loss has stopped improving for a long stretch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float, check_int
from dynamics_stats.core.types import FloatArray, IntArray, Severity
from dynamics_stats.curves.smoothing import slope_probability
from dynamics_stats.curves.types import ModelledRun, SmoothedCurve
from dynamics_stats.detectors._trend import is_fallback, lr_drop_steps, trend_of
from dynamics_stats.detectors.base import Evidence

__all__ = ["ValidationPlateauDetector"]

Pairs = tuple[tuple[str, float], ...]


def improvement_steps(steps: IntArray, level: FloatArray, *, tol: float) -> IntArray:
    """Return the steps where ``level`` beat its best so far by more than ``tol``.

    Early-stopping logic on the smoothed level (lower is better): the best is only
    updated by an improvement larger than ``tol``. The first point counts as one.

    Examples
    --------
    >>> improvement_steps(np.arange(5), np.array([1.0, 0.5, 0.45, 0.3, 0.29]), tol=0.1)
    array([0, 1, 3])
    """
    best, found = float(level[0]), [0]
    for i in range(1, len(level)):
        if level[i] < best - tol:
            best = float(level[i])
            found.append(i)
    return np.asarray(steps[found], dtype=np.int64)


def last_improvement(level: FloatArray, *, tol: float) -> int:
    """Return the index after which ``level`` never improves by more than ``tol`` again.

    Lower is better: it is the first index ``i`` with ``level[i] - min(level[j:]) <= tol``
    for every ``j >= i``, i.e. one past the last point that something later beat by more
    than ``tol``.

    Examples
    --------
    >>> last_improvement(np.array([1.0, 0.5, 0.3, 0.31, 0.29, 0.4]), tol=0.05)
    2
    """
    suffix_min = np.minimum.accumulate(level[::-1])[::-1]
    beaten = np.flatnonzero(level - suffix_min > tol)
    return 0 if len(beaten) == 0 else min(int(beaten[-1]) + 1, len(level) - 1)


@dataclass(frozen=True, slots=True)
class ValidationPlateauDetector:
    """The validation loss stops improving for a configurable stretch of steps.

    Parameters
    ----------
    window_frac : float, default=0.2
        Length of a plateau, as a fraction of the run, that scores 1.0 (used when
        ``window_steps`` is None). A fifth of the run without improvement is long enough
        to act on (early stopping, an LR decay) and much longer than validation noise.
    window_steps : int or None, default=None
        The same length in steps, overriding ``window_frac``.
    min_delta_decades : float, default=0.01
        An improvement of the smoothed log10 validation loss smaller than this (2.3 %)
        does not end a plateau (``min_delta`` of early stopping); raised to twice the
        level's median standard error when that is larger.
    lr_drop_factor : float, default=0.5
        The LR falling below this factor of its value 2 % of the run earlier counts as
        an LR drop.

    Notes
    -----
    The final plateau starts after the last point of the smoothed validation level that a
    later point beat by more than the tolerance (`last_improvement`). The score is its
    length divided by the window: 1.0 when the loss has not improved for a whole window,
    proportional to the plateau's length, invariant to the loss's scale (log scale) and
    the logging interval (steps). Earlier stretches of at least one window between
    improvements (early-stopping logic, `improvement_steps`) are temporary plateaus; one
    that ended within two windows after an LR drop inside it counts as ended by the LR
    drop. For the final plateau the values say whether the LR already dropped during it
    (a drop that did not help makes the plateau genuine) and P(the validation loss
    rises over it) (overfitting rather than a plateau). Severity is ``"warning"`` for a
    plateau that is rising or survived an LR drop, ``"info"`` otherwise.
    """

    name: ClassVar[str] = "validation_plateau"
    requires: ClassVar[frozenset[str]] = frozenset({"val_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("validation_plateau",)
    window_frac: float = 0.2
    window_steps: int | None = None
    min_delta_decades: float = 0.01
    lr_drop_factor: float = 0.5

    def __post_init__(self) -> None:
        check_float(self, "window_frac", low=0.0, high=1.0, low_open=True)
        if self.window_steps is not None:
            check_int(self, "window_steps", low=1)
        check_float(self, "min_delta_decades", low=0.0)
        check_float(self, "lr_drop_factor", low=0.0, high=1.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"validation_plateau"``.

        Examples
        --------
        >>> from dynamics_stats import validate_run
        >>> from dynamics_stats.curves import model_curves
        >>> from dynamics_stats.io.synthetic import make_run
        >>> run = model_curves(validate_run(make_run("overfitting", seed=1)[0]))
        >>> (evidence,) = ValidationPlateauDetector().detect(run)
        >>> evidence.score > 1.0
        True
        """
        val = run.artifacts.get("val_loss")
        trend = None if val is None else trend_of(run, val)
        if val is None or trend is None:
            return ()
        first, end = int(trend.steps[0]), int(trend.steps[-1])
        span = max(end - first, 1)
        window = self.window_steps or max(int(round(self.window_frac * span)), 1)
        unit = 1.0 if trend.log_scale else max(float(np.max(np.abs(trend.level))), 1e-300)
        tol = max(self.min_delta_decades * unit, 2.0 * float(np.median(trend.level_se)))
        start = int(trend.steps[last_improvement(trend.level, tol=tol)])
        improved = improvement_steps(trend.steps, trend.level, tol=tol)
        improved = np.append(improved[improved < start], start)
        drops = self._lr_drops(run, span)
        values = (
            ("plateau_start_step", float(start)),
            ("plateau_steps", float(end - start)),
            ("plateau_frac", (end - start) / span),
            ("window_steps", float(window)),
            *self._temporary(improved, drops, window),
            *self._final(trend, start, drops, tol / unit),
            ("used_fallback", float(is_fallback(trend))),
        )
        return (self._evidence(val.name, (end - start) / window, start, values, drops),)

    def _lr_drops(self, run: ModelledRun, span: int) -> tuple[int, ...]:
        lr = run.artifacts.get("learning_rate")
        if lr is None:
            return ()
        return lr_drop_steps(lr, factor=self.lr_drop_factor, window=max(int(0.02 * span), 1))

    @staticmethod
    def _temporary(improved: IntArray, drops: tuple[int, ...], window: int) -> Pairs:
        """Earlier plateaus of at least a window that ended, and how many an LR drop ended."""
        gaps = np.diff(improved)
        long = np.flatnonzero(gaps >= window)
        by_drop = 0
        for i in long:
            begin, ended = int(improved[i]), int(improved[i + 1])
            by_drop += any(begin <= d <= ended <= d + 2 * window for d in drops)
        return (
            ("n_temporary_plateaus", float(len(long))),
            ("n_plateaus_ended_after_lr_drop", float(by_drop)),
        )

    @staticmethod
    def _final(curve: SmoothedCurve, start: int, drops: tuple[int, ...], tol: float) -> Pairs:
        """Facts about the final plateau: LR drops inside it, rise and P(rising)."""
        end = int(curve.steps[-1])
        inside = [d for d in drops if start <= d <= end]
        best = float(np.min(curve.level[curve.steps >= start]))
        p_rising = slope_probability(curve, start_step=start, end_step=end, positive=True)
        return (
            ("lr_drops_in_plateau", float(len(inside))),
            ("steps_since_lr_drop", float(end - inside[-1]) if inside else float("nan")),
            ("rise_since_best", float(curve.level[-1]) - best),
            ("p_val_rising_in_plateau", p_rising),
            ("tolerance", tol),
        )

    def _evidence(
        self, metric: str, score: float, start: int, values: Pairs, drops: tuple[int, ...]
    ) -> Evidence:
        present = score >= 1.0
        facts = dict(values)
        rising = facts["p_val_rising_in_plateau"] > 0.9 and facts["rise_since_best"] > 0.0
        survived_drop = facts["lr_drops_in_plateau"] > 0
        severity: Severity = "warning" if present and (rising or survived_drop) else "info"
        if not present:
            message = f"{metric} is still improving (last improvement at step {start:,})."
        elif rising:
            message = f"{metric} has not improved since step {start:,} and is rising: this "
            message += "looks like overfitting rather than a temporary plateau."
        elif survived_drop:
            message = f"{metric} has not improved since step {start:,}, even after an LR drop."
        else:
            message = f"{metric} has not improved since step {start:,}; the LR has not "
            message += "dropped since, and an LR decay may end the plateau."
        return Evidence(
            kind="validation_plateau",
            detector=self.name,
            score=float(score),
            metric=metric,
            onset_step=start if present else None,
            severity=severity,
            values=values,
            steps=tuple(drops[:50]),
            message=message,
        )
