"""`SpikeDetector`: short excursions of the loss far outside local noise that come back down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dynamics_stats.core._checks import check_float, check_int
from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import (
    finite_part,
    log_scale,
    median_interval,
    run_span,
    window_steps,
)
from dynamics_stats.detectors._excursions import Excursions, find_excursions
from dynamics_stats.detectors.base import Evidence

__all__ = ["SpikeDetector"]

Values = tuple[tuple[str, float], ...]


def _max(a: FloatArray) -> float:
    return float(a.max()) if len(a) else 0.0


def _message(n: int, height: float, is_log: bool) -> str:
    if not n:
        return "No loss spike stands out from the noise."
    size = f", the largest {10**height:.1f}x the level before it" if is_log else ""
    return f"{n} loss spike(s) far above local noise came back down{size}."


@dataclass(frozen=True, slots=True)
class SpikeDetector:
    """Transient spikes of the train loss far outside local noise that recover.

    Parameters
    ----------
    window_frac : float, default=0.02
        Window of the local trend (centred rolling median) and of the noise before each
        point (trailing MAD), as a fraction of the run (at least 10 logged points). 2 % is
        wide enough to hold a few hundred points of noise on a long run and narrow enough
        to follow the curve's bend early in training.
    z_threshold : float, default=6.0
        Robust z-score a spike must exceed: Gaussian noise passes 6 SD about once in 10^9
        points, so only heavy tails or real spikes do.
    width_frac : float, default=0.005
        A spike's full width at half height is at most ``3 logging intervals + width_frac
        x run`` steps (the resolution of the log plus a short event); wider excursions are
        bumps (a warm-up bump spans a good part of the warm-up, 1-8 % of a typical run).
    recovery_frac : float, default=0.02
        A spike comes back to its prior level (within 3 noise SD or a quarter of its
        height) within this fraction of the run (at least 5 logged points); excursions
        that stay up are level shifts or divergence.
    null_factor : float, default=1.5
        The bar is raised to ``null_factor`` times the largest downward excursion that
        passes the same tests, so heavy-tailed noise (symmetric on the log scale) does
        not count as spikes.
    min_points : int, default=20
        Fewer finite points give a zero score (no spike can be told from noise).

    Notes
    -----
    The loss is analysed as ``log10`` (or as is when it is not positive), with the
    excursion search of `dynamics_stats.detectors._excursions.find_excursions`. It works
    on the raw logged points only: the smoothed curve's bins are wider than a spike, so
    no curve model is needed and none is used.

    Score scale: ``max z / reference`` over the short excursions that recovered,
    with ``reference = max(z_threshold, null_factor x largest downward z)``; 0 when no
    spike is found, 1.0 for one spike exactly at the bar. It grows with the height of the
    largest spike relative to the noise before it, does not change when the loss is
    multiplied by a constant, and windows are in steps so the logging interval does not
    change it beyond sampling noise (an interval mean dilutes a very short spike and the
    noise alike).

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.curves.types import ModelledRun
    >>> from dynamics_stats.io.synthetic import make_run
    >>> run, truth = make_run("loss_spikes", n_steps=2000, seed=1)
    >>> (evidence,) = SpikeDetector().detect(ModelledRun(validate_run(run)))
    >>> evidence.kind, evidence.score > 1.0
    ('loss_spikes', True)
    """

    name: ClassVar[str] = "spikes"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("loss_spikes",)
    window_frac: float = 0.02
    z_threshold: float = 6.0
    width_frac: float = 0.005
    recovery_frac: float = 0.02
    null_factor: float = 1.5
    min_points: int = 20

    def __post_init__(self) -> None:
        check_float(self, "window_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "z_threshold", low=1.0)
        check_float(self, "width_frac", low=0.0, high=0.5)
        check_float(self, "recovery_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "null_factor", low=0.0)
        check_int(self, "min_points", low=10)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"loss_spikes"`` (none without a train loss).

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
        steps, values = finite_part(loss, keep="extremes")
        if len(steps) < self.min_points:
            return (self._absent(loss.name, len(steps)),)
        y, is_log = log_scale(values)
        window = window_steps(steps, frac=self.window_frac, min_points=10)
        width = int(3 * median_interval(steps) + self.width_frac * run_span(steps))
        recovery = window_steps(steps, frac=self.recovery_frac, min_points=5)
        found = find_excursions(
            steps, y, window=window, z_threshold=self.z_threshold, max_width=width,
            recovery_steps=recovery,
        )  # fmt: skip
        extra = (("window_steps", float(window)), ("max_width_steps", float(width)))
        return (self._evidence(loss.name, steps, found, is_log, extra),)

    def _evidence(  # noqa: PLR0913 - one internal step
        self, metric: str, steps: IntArray, found: Excursions, is_log: bool, extra: Values
    ) -> Evidence:
        reference = max(self.z_threshold, self.null_factor * found.null_z)
        strong = found.z >= reference
        height = _max(found.heights[strong])
        values = (
            ("n_spikes", float(strong.sum())),
            ("spikes_per_10k_steps", 1e4 * float(strong.sum()) / run_span(steps)),
            ("n_candidates", float(len(found.peaks))),
            ("max_z", _max(found.z)),
            ("reference_z", reference),
            ("null_z", found.null_z),
            ("max_height_decades" if is_log else "max_height", height),
            ("n_unrecovered", float(found.n_unrecovered)),
            ("n_too_wide", float(found.n_wide)),
        )
        return Evidence(
            kind="loss_spikes",
            detector=self.name,
            score=_max(found.z) / reference,
            metric=metric,
            onset_step=int(steps[found.starts[strong][0]]) if strong.any() else None,
            severity="warning" if strong.any() else "info",
            values=values + extra,
            steps=tuple(int(s) for s in steps[found.peaks[strong]][:50]),
            message=_message(int(strong.sum()), height, is_log),
        )

    def _absent(self, metric: str, n_points: int) -> Evidence:
        return Evidence(
            kind="loss_spikes",
            detector=self.name,
            score=0.0,
            metric=metric,
            values=(("n_spikes", 0.0), ("n_points", float(n_points))),
            message=f"Too few points ({n_points}) to look for loss spikes.",
        )
