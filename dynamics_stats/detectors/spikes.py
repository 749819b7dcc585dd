"""`SpikeDetector`: short excursions of the loss far outside local noise that come back down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors._common import finite_part, log_scale, window_steps
from dynamics_stats.detectors._excursions import find_spikes
from dynamics_stats.detectors.base import Evidence

__all__ = ["SpikeDetector"]

_MIN_POINTS = 20


@dataclass(frozen=True, slots=True)
class SpikeDetector:
    """Short excursions far outside local noise that come back down.

    Parameters
    ----------
    window_frac : float, default=0.02
        Trailing window for the local median and MAD, as a fraction of the run (at least
        10 logged points); a spike must come back within the same number of steps.
    z_threshold : float, default=6.0
        Robust z-score (median/MAD of the log loss over the window) a spike must exceed.

    Notes
    -----
    Score scale: ``max z / reference`` over the recovered spikes, where the reference is
    ``max(z_threshold, 1.5 * largest downward z)`` (noise of a log loss is roughly
    symmetric and spikes are not, so heavy-tailed noise raises the bar), multiplied by
    ``min(1, height / 0.15 decades)`` of that spike so that statistically large but tiny
    excursions of a very smooth loss count less; 1.0 means one recovered spike at the
    threshold with a height of at least 1.4x the local median, 0 means none. Runs where the
    loss is not positive are analysed on the linear scale (height factor 1). Excursions
    that do not come back within the window are level shifts (divergence, warm-up bumps),
    not spikes.
    """

    name: ClassVar[str] = "spikes"
    requires: ClassVar[frozenset[str]] = frozenset({"train_loss"})
    kinds: ClassVar[tuple[str, ...]] = ("loss_spikes",)
    window_frac: float = 0.02
    z_threshold: float = 6.0

    def __post_init__(self) -> None:
        check_float(self, "window_frac", low=0.0, high=0.5, low_open=True)
        check_float(self, "z_threshold", low=1.0)

    def detect(self, run: ModelledRun) -> tuple[Evidence, ...]:
        """Return one `Evidence` of kind ``"loss_spikes"``."""
        loss = run.artifacts.get("train_loss")
        if loss is None:
            return ()
        steps, values = finite_part(loss, keep="max")
        if len(steps) < _MIN_POINTS:
            return (self._absent(loss.name, "too few points", len(steps)),)
        y, is_log = log_scale(values)
        window = window_steps(steps, frac=self.window_frac, min_points=10)
        pos, z, height, null_z = find_spikes(steps, y, window=window, z_threshold=self.z_threshold)
        if not len(pos):
            return (self._absent(loss.name, "no spike", len(steps)),)
        factor = np.minimum(1.0, height / 0.15) if is_log else np.ones_like(height)
        reference = max(self.z_threshold, 1.5 * null_z)
        strength = z / reference * factor
        best = int(np.argmax(strength))
        score = float(strength[best])
        present = score >= 1.0
        span = max(int(steps[-1] - steps[0]), 1)
        return (
            Evidence(
                kind="loss_spikes",
                detector=self.name,
                score=score,
                metric=loss.name,
                onset_step=int(steps[pos[0]]),
                severity="warning" if present else "info",
                values=(
                    ("n_spikes", float(len(pos))),
                    ("spikes_per_10k_steps", 1e4 * len(pos) / span),
                    ("max_z", float(z.max())),
                    ("noise_reference_z", reference),
                    ("max_height_decades" if is_log else "max_height", float(height.max())),
                    ("window_steps", float(window)),
                ),
                steps=tuple(int(s) for s in steps[pos][:50]),
                message=(
                    f"{len(pos)} loss spike(s) far above local noise that recovered "
                    f"(largest {10 ** float(height.max()):.1f}x the local level)."
                    if is_log
                    else f"{len(pos)} loss spike(s) far above local noise that recovered."
                ),
            ),
        )

    def _absent(self, metric: str, why: str, n: int) -> Evidence:
        return Evidence(
            kind="loss_spikes",
            detector=self.name,
            score=0.0,
            metric=metric,
            values=(("n_spikes", 0.0), ("n_points", float(n))),
            message=f"No loss spikes ({why}).",
        )
