"""`OscillationDetector`: persistent high volatility without spike-and-recover structure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.types import FloatArray
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import (
    MAD_TO_SD,
    finite_part,
    log_scale,
    rolling_median,
    window_steps,
)
from dynamics_stats.detectors.base import Evidence

__all__ = ["OscillationDetector"]

_MIN_POINTS = 30


def _lag1(r: FloatArray) -> float:
    r = r[np.isfinite(r)]
    if len(r) < 4 or np.std(r) == 0:
        return 0.0
    return float(np.corrcoef(r[:-1], r[1:])[0, 1])


def _robust_sd(r: FloatArray) -> float:
    r = r[np.isfinite(r)]
    return float(MAD_TO_SD * np.median(np.abs(r - np.median(r)))) if len(r) else float("nan")


@dataclass(frozen=True, slots=True)
class OscillationDetector:
    """Persistent oscillation or high volatility of the loss that is not a spike.

    Parameters
    ----------
    window_frac : float, default=0.05
        Width of the centred rolling median that gives the trend, as a fraction of the run.
    reference_decades : float, default=0.25
        Residual volatility (robust SD of the log10 loss around its trend) that counts as
        "high": 0.25 decades is a typical swing of about x1.8 around the trend, several
        times the per-batch noise of healthy runs (coefficient of variation 0.1-0.3).

    Notes
    -----
    The residual volatility ``v`` is measured over the second half of the run, where a
    healthy run has settled. Persistence ``q`` is the fraction of the run's windows whose
    volatility is above half the reference. Progress ``d`` is the fall of the trend over the
    second half in decades. Score: ``(v / reference) * (0.5 + 0.5 q) * (1 + max(0, -rho))
    / (1 + max(0, d) / v)`` where ``rho`` is the lag-1 autocorrelation of the residuals
    (alternating swings, rho < 0, are typical of a learning rate at the edge of stability).
    1.0 is the "present" threshold. Isolated spikes barely move a robust SD, so spikes do
    not look like oscillation. Because logged values are often means over the logging
    interval, a coarser interval lowers ``v`` somewhat; calibration absorbs this through
    the ``log_interval`` value.
    """

    name: ClassVar[str] = "oscillation"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("oscillation",)
    window_frac: float = 0.05
    reference_decades: float = 0.25

    def __post_init__(self) -> None:
        check_float(self, "window_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "reference_decades", low=0.0, low_open=True)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"oscillation"``."""
        loss = run.artifacts.get("train_loss")
        if loss is None:
            return ()
        steps, values = finite_part(loss)
        if len(steps) < _MIN_POINTS:
            return (self._evidence(loss.name, 0.0, (("n_points", float(len(steps))),), None),)
        y, is_log = log_scale(values)
        if not is_log:
            y = y / max(float(np.nanmax(y) - np.nanmin(y)), 1e-12)
        window = window_steps(steps, frac=self.window_frac, min_points=7)
        trend = rolling_median(steps, y, window=window)
        resid = y - trend
        late = steps >= steps[0] + 0.5 * (steps[-1] - steps[0])
        v = _robust_sd(resid[late])
        rho = _lag1(resid[late])
        progress = float(np.median(trend[late][: max(len(trend[late]) // 10, 1)]) - trend[-1])
        q = self._persistence(steps, resid, window)
        score = (v / self.reference_decades) * (0.5 + 0.5 * q) * (1 + max(0.0, -rho))
        score /= 1 + max(0.0, progress) / max(v, 1e-12)
        interval = float(np.median(np.diff(steps)))
        values = (
            ("volatility_decades" if is_log else "volatility_range_units", v),
            ("persistence_frac", q),
            ("lag1_autocorr", rho),
            ("late_progress", progress),
            ("log_interval", interval),
        )
        onset = self._onset(steps, resid, window) if score >= 1.0 else None
        return (self._evidence(loss.name, float(score), values, onset),)

    def _persistence(self, steps: np.ndarray, resid: FloatArray, window: int) -> float:  # type: ignore[type-arg]
        edges = np.arange(steps[0], steps[-1] + window, window)
        which = np.digitize(steps, edges)
        sds = [_robust_sd(resid[which == k]) for k in np.unique(which) if (which == k).sum() >= 5]
        if not sds:
            return 0.0
        return float(np.mean(np.asarray(sds) > 0.5 * self.reference_decades))

    def _onset(self, steps: np.ndarray, resid: FloatArray, window: int) -> int | None:  # type: ignore[type-arg]
        edges = np.arange(steps[0], steps[-1] + window, window)
        for start in edges:
            chunk = resid[(steps >= start) & (steps < start + window)]
            if len(chunk) >= 5 and _robust_sd(chunk) > 0.5 * self.reference_decades:
                return int(start)
        return None

    def _evidence(
        self, metric: str, score: float, values: tuple[tuple[str, float], ...], onset: int | None
    ) -> Evidence:
        present = score >= 1.0
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
