"""`GradientDetector`: exploding and vanishing gradients, measured or inferred from the loss."""

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
    first_nonfinite,
    head_mask,
    level_of,
    log_scale,
    median_interval,
    nonfinite_persistence,
    run_span,
    tail_mask,
    trailing_extreme,
    trailing_median_mad,
    window_steps,
)
from dynamics_stats.detectors._excursions import find_excursions
from dynamics_stats.detectors.base import Evidence

__all__ = ["GradientDetector"]

_MIN_POINTS = 20
_INFERRED_WEIGHT = 0.5  # inferred scores are halved: the same loss pattern is weaker evidence
Values = tuple[tuple[str, float], ...]


def _loss_reacted(run: ModelledRun, step: int, window: int) -> bool:
    """Return whether the loss rose far above its recent level soon after ``step``."""
    loss = run.artifacts.get("train_loss")
    if loss is None:
        return False
    near = (loss.steps >= step) & (loss.steps <= step + window)
    if (~np.isfinite(loss.values[near])).any():
        return True
    before = (loss.steps < step) & (loss.steps >= step - 10 * window) & np.isfinite(loss.values)
    if near.sum() == 0 or before.sum() < 5:
        return False
    y_before, _ = log_scale(loss.values[before])
    y_near, _ = log_scale(loss.values[near])
    spread = 1.4826 * float(np.median(np.abs(y_before - np.median(y_before)))) + 1e-12
    return bool(np.nanmax(y_near) > np.median(y_before) + 6.0 * spread)


def _iforest_support(run: ModelledRun, start: int, end: int) -> tuple[float, float]:
    """Return the forest's flagged fraction and top score inside [start, end]."""
    forest = run.grad_anomalies
    if forest is None or not len(forest.steps):
        return float("nan"), float("nan")
    inside = (forest.steps >= start) & (forest.steps <= end)
    if not inside.any():
        return 0.0, float("nan")
    return float(forest.is_anomaly[inside].mean()), float(forest.scores[inside].max())


@dataclass(frozen=True, slots=True)
class GradientDetector:
    """Exploding and vanishing gradients, from a logged gradient norm or inferred from the loss.

    Parameters
    ----------
    window_frac : float, default=0.05
        Window of the running level of the log norm (trailing median), as a fraction of
        the run (at least 10 logged points).
    sustain_frac : float, default=0.005
        An explosion must hold for ``max(2 logging intervals, sustain_frac x run)``
        steps to count at full weight; a lone outlier counts at half weight.
    reference_frac : float, default=0.1
        The early period: the healthy norm for vanishing is the 90th percentile of the
        log norm over this first fraction of the run (the run's own early norm: absolute
        scales differ from 1e-3 to 1e6 between models).
    low_frac : float, default=0.1
        Vanishing must hold for this fraction of the run.
    min_norm_to_loss : float, default=1e-4
        The healthy reference is never below this fraction of the early loss (0 turns
        the floor off): the norm of a loss's gradient is rarely below it (synthetic
        healthy runs span 1e-2..20, real language-model runs about 1e-2..1), so a norm
        that collapsed before the first log still shows.

    Notes
    -----
    Direct mode (a norm with at least 20 finite positive points; ``("inferred", 0.0)``).

    Exploding score, in decades: the largest of (a) the jump of the log10 norm above
    its running level, held for the sustain window, where the running level is the
    highest trailing median (over ``window_frac`` of the run) of the last half run, so a
    norm returning from a collapse to a level it had before is not a jump; (b) the rise
    of the smoothed norm (curve model, or rolling-median fallback) after the first
    ``reference_frac`` of the run above the highest norm of that early period; (c) half
    the largest single jump, three quarters when the loss reacted (a loss spike or NaN
    within the sustain window); (d) the fraction of the norm's points that are NaN/inf
    from its first such point on. 1.0 is a tenfold jump held for the sustain window.
    ``recommended_clip`` is the 95th percentile of the norm over stable points (within
    half a decade of the running level, after the early period). The isolation forest
    of the curve layer (``run.grad_anomalies``) is reported as supporting evidence (its
    flagged fraction and top score around the largest jump) but not scored: it flags a
    fixed share of the points of every run, spikes or not.

    Vanishing score: ``U / (1 + p / 0.1)``. ``U`` is the fall in decades of the smoothed
    norm below the healthy reference that the loss's own progress does not explain (minus
    the fall of the log10 loss since the reference period: a norm that falls with the
    loss, with an elasticity of at most 1, is convergence), held for ``low_frac`` of the
    run; ``p`` is the fall of the log10 loss during that low period. The reference is
    the run's own early norm, but never below ``min_norm_to_loss`` times the early loss.
    1.0 is a tenfold unexplained fall with a flat loss.

    Inferred mode (no usable norm; ``("inferred", 1.0)``): exploding scores half the
    largest of the height of the loss's largest recovered spike, the runaway rise of
    its trend (both in decades) and twice the persistence of a NaN/inf loss; vanishing
    scores half the fraction of the run at its end over which the loss trend fell by
    less than 0.01 decades (a flat loss, which a stall causes as well). The learning rate
    is not used: explosions happen at high and at decayed rates alike. Calibration
    should fit the two modes apart (the ``inferred`` value); the halving keeps inferred
    scores below direct ones of the same size.

    All scores are invariant to multiplying the loss by a constant (which multiplies its
    gradient too); apart from the ``min_norm_to_loss`` floor, also to multiplying the
    norm alone. Windows are in steps.

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.curves.types import ModelledRun
    >>> from dynamics_stats.io.synthetic import make_run
    >>> run, _ = make_run("exploding_gradients", n_steps=2000, seed=2)
    >>> found = GradientDetector().detect(ModelledRun(validate_run(run)))
    >>> [e.kind for e in found], found[0].score >= 1.0
    (['exploding_gradients', 'vanishing_gradients'], True)
    """

    name: ClassVar[str] = "gradients"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("exploding_gradients", "vanishing_gradients")
    window_frac: float = 0.05
    sustain_frac: float = 0.005
    reference_frac: float = 0.1
    low_frac: float = 0.1
    min_norm_to_loss: float = 1e-4

    def __post_init__(self) -> None:
        check_float(self, "window_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "sustain_frac", low=0.0, high=0.5)
        check_float(self, "reference_frac", low=0.0, high=0.9, low_open=True)
        check_float(self, "low_frac", low=0.0, high=0.9, low_open=True)
        check_float(self, "min_norm_to_loss", low=0.0, high=1.0)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` per kind: exploding and vanishing gradients.

        Parameters
        ----------
        run : ModelledRun
            The modelled run.

        Returns
        -------
        tuple of Evidence
            Empty without a train loss.
        """
        loss = run.artifacts.get("train_loss")
        if loss is None:
            return ()
        norm = run.artifacts.get("grad_norm")
        if norm is not None:
            steps, values = finite_part(norm)
            keep = values > 0
            if keep.sum() >= _MIN_POINTS:
                g = np.log10(values[keep])
                return self._exploding(run, norm, steps[keep], g), self._vanishing(
                    run, norm, steps[keep], g
                )
        return self._inferred(run, loss)

    def _jumps(self, steps: IntArray, g: FloatArray) -> tuple[FloatArray, FloatArray, int]:
        """Return the jump above the running level, its held minimum and the hold."""
        window = window_steps(steps, frac=self.window_frac, min_points=10)
        level, _ = trailing_median_mad(steps, g, window=window, min_points=5)
        level = np.where(np.isfinite(level), level, g)
        # the level to beat is the highest running level of the last half run: a norm
        # coming back from a collapse returns to a level it had, an explosion exceeds it
        jump = g - trailing_extreme(steps, level, window=int(0.5 * run_span(steps)), how="max")
        hold = max(int(2 * median_interval(steps)), int(self.sustain_frac * run_span(steps)))
        return jump, trailing_extreme(steps, jump, window=hold, how="min"), hold

    def _exploding(
        self, run: ModelledRun, norm: MetricSeries, steps: IntArray, g: FloatArray
    ) -> Evidence:
        jump, held, hold = self._jumps(steps, g)
        sustained = max(float(np.nanmax(held)), 0.0)
        head = head_mask(steps, self.reference_frac)
        trend = level_of(run, norm)
        # the highest early norm (initial transient included) is the level to rise above
        above = np.where(head, -np.inf, (trend.at(steps) if trend else g) - float(np.max(g[head])))
        rise = max(float(np.max(above)), 0.0)
        at = int(np.argmax(jump))
        reacted = _loss_reacted(run, int(steps[at]), hold)
        flagged, top = _iforest_support(run, int(steps[at]) - hold, int(steps[at]) + hold)
        single = (0.75 if reacted else 0.5) * max(float(jump[at]), 0.0)
        bad = first_nonfinite(norm, after_finite=True)
        persistence = nonfinite_persistence(norm, bad) if bad is not None else 0.0
        parts = {"sustained": sustained, "above_early": rise, "single": single,
                 "nonfinite": persistence}  # fmt: skip
        source = max(parts, key=parts.__getitem__)
        score = parts[source]
        onset = _explosion_onset(source, steps, jump, held, above, bad, at)
        values: Values = (
            ("inferred", 0.0),
            ("sustained_jump_decades", sustained),
            ("above_early_decades", rise),
            ("max_jump_decades", float(jump[at])),
            ("loss_reacted", float(reacted)),
            ("iforest_flag_frac", flagged),
            ("iforest_top_score", top),
            ("nonfinite_persistence", persistence),
            ("frac_points_10x", float(np.mean(jump >= 1.0))),
            ("hold_steps", float(hold)),
            ("recommended_clip", _recommended_clip(g, jump, head)),
            ("used_fallback", float(trend is None or trend.used_fallback)),
        )
        steps_10x = tuple(int(s) for s in steps[jump >= 1.0][:50])
        return _evidence("exploding_gradients", norm.name, score, onset, values, steps_10x)

    def _vanishing(
        self, run: ModelledRun, norm: MetricSeries, steps: IntArray, g: FloatArray
    ) -> Evidence:
        head = head_mask(steps, self.reference_frac)
        own = float(np.percentile(g[head], 90))
        norm_trend = level_of(run, norm)
        level = norm_trend.at(steps) if norm_trend is not None else g
        loss_level, loss_log, loss_fallback = _loss_trend(run, steps)
        early_loss = float(np.median(loss_level[head]))
        floor = (
            early_loss + np.log10(self.min_norm_to_loss) if self.min_norm_to_loss > 0 else -np.inf
        )
        reference = max(own, floor) if loss_log else own
        explained = np.maximum(early_loss - loss_level, 0.0) if loss_log else 0.0
        unexplained = (reference - level) - explained
        hold = max(int(self.low_frac * run_span(steps)), 1)
        held = trailing_extreme(steps, unexplained, window=hold, how="min")
        best = max(float(np.nanmax(held)), 0.0) if np.isfinite(held).any() else 0.0
        low = unexplained >= 0.5 * best if best > 0 else np.zeros(len(steps), dtype=bool)
        progress = _fall(loss_level, low) if loss_log else 0.0
        score = best / (1.0 + max(progress, 0.0) / 0.1)
        onset = int(steps[np.argmax(low)]) if low.any() and score >= 0.5 else None
        values: Values = (
            ("inferred", 0.0),
            ("unexplained_fall_decades", best),
            ("max_fall_decades", float(reference - np.min(level))),
            ("low_frac", float(low.mean())),
            ("loss_progress_when_low_decades", progress),
            ("reference_log10_norm", reference),
            ("early_norm_to_loss_log10", own - early_loss if loss_log else float("nan")),
            (
                "used_fallback",
                float(norm_trend is None or norm_trend.used_fallback or loss_fallback),
            ),
        )
        return _evidence("vanishing_gradients", norm.name, score, onset, values, ())

    def _inferred(self, run: ModelledRun, loss: MetricSeries) -> tuple[Evidence, Evidence]:
        steps, values = finite_part(loss, keep="extremes")
        y, is_log = log_scale(values)
        height = _spike_height(steps, y) if is_log and len(steps) >= _MIN_POINTS else 0.0
        trend = level_of(run, loss)
        rise = flat = 0.0
        if trend is not None and trend.log_scale:
            level = trend.level
            rise = float(np.median(level[tail_mask(trend.steps, 0.02)]) - np.min(level))
            moved = np.flatnonzero(level - level[-1] >= 0.01)
            last_move = int(trend.steps[moved[-1]]) if len(moved) else int(trend.steps[0])
            flat = (int(trend.steps[-1]) - last_move) / run_span(trend.steps)
        bad = first_nonfinite(loss, after_finite=True)
        persistence = nonfinite_persistence(loss, bad) if bad is not None else 0.0
        explode = _INFERRED_WEIGHT * max(height, rise, 2.0 * persistence)
        fallback = float(trend is None or trend.used_fallback)
        common: Values = (("inferred", 1.0), ("used_fallback", fallback))
        exploding = _evidence(
            "exploding_gradients", loss.name, explode, None,
            common + (("loss_spike_height_decades", height), ("loss_rise_decades", rise),
                      ("loss_nonfinite_persistence", persistence)), (),
        )  # fmt: skip
        vanishing = _evidence(
            "vanishing_gradients", loss.name, _INFERRED_WEIGHT * flat, None,
            common + (("flat_end_frac", flat),), (),
        )  # fmt: skip
        return exploding, vanishing


def _recommended_clip(g: FloatArray, jump: FloatArray, head: BoolArray) -> float:
    """Return the 95th percentile of the norm over stable points (as `ClippingDetector`)."""
    stable = (np.abs(jump) < 0.5) & ~head
    return float(10 ** np.percentile(g[stable], 95)) if stable.sum() >= 10 else float("nan")


def _loss_trend(run: ModelledRun, steps: IntArray) -> tuple[FloatArray, bool, bool]:
    """Return the train-loss trend at ``steps``, whether it is log10, and if it fell back."""
    loss = run.artifacts.get("train_loss")
    trend = level_of(run, loss) if loss is not None else None
    if trend is None:
        return np.zeros(len(steps)), False, True
    return trend.at(steps), trend.log_scale, trend.used_fallback


def _fall(level: FloatArray, mask: BoolArray) -> float:
    """Return the fall of ``level`` from the first to the last masked point."""
    where = np.flatnonzero(mask)
    return float(level[where[0]] - level[where[-1]]) if len(where) else 0.0


def _spike_height(steps: IntArray, y: FloatArray) -> float:
    """Return the height in decades of the largest loss spike (`SpikeDetector` defaults)."""
    interval, span = median_interval(steps), run_span(steps)
    found = find_excursions(
        steps, y, window=window_steps(steps, frac=0.02, min_points=10), z_threshold=6.0,
        max_width=int(3 * interval + 0.005 * span),
        recovery_steps=window_steps(steps, frac=0.02, min_points=5),
    )  # fmt: skip
    strong = found.z >= max(6.0, 1.5 * found.null_z)
    return float(found.heights[strong].max()) if strong.any() else 0.0


def _explosion_onset(  # noqa: PLR0913 - one internal step
    source: str,
    steps: IntArray,
    jump: FloatArray,
    held: FloatArray,
    above: FloatArray,
    bad: int | None,
    at: int,
) -> int | None:
    """Return the first step of the event that gave the exploding score."""
    if source == "nonfinite":
        return bad
    if source == "single":
        return int(steps[at])
    if source == "above_early":
        peak = int(np.argmax(above))
        rising = np.flatnonzero(above[: peak + 1] < 0.5 * above[peak])
        return int(steps[rising[-1] + 1]) if len(rising) else int(steps[0])
    end = int(np.nanargmax(held))
    calm = np.flatnonzero(jump[: end + 1] < 0.5 * held[end])
    return int(steps[calm[-1] + 1]) if len(calm) else int(steps[0])


def _evidence(  # noqa: PLR0913 - one internal step
    kind: str,
    metric: str,
    score: float,
    onset: int | None,
    values: Values,
    steps: tuple[int, ...],
) -> Evidence:
    present = score >= 1.0
    inferred = dict(values).get("inferred", 0.0) == 1.0
    what = "exploding" if kind == "exploding_gradients" else "vanishing"
    how = " (inferred from the loss; no gradient norm is logged)" if inferred else ""
    return Evidence(
        kind=kind,
        detector="gradients",
        score=float(score),
        metric=metric,
        onset_step=onset if present else None,
        severity=("warning" if inferred else "critical") if present else "info",
        values=values,
        steps=steps if present else (),
        message=f"Signs of {what} gradients{how}."
        if present
        else f"No sign of {what} gradients{how}.",
    )
