"""Decide the labels of a synthetic run with explicit numeric rules on its clean signal.

An injector proposes candidate kinds with onsets; a candidate becomes a label only if the
noise-free generated signal (`CleanLogs` of the run, compared with its healthy twin: the
same run without the injection) meets the rule of that kind. So a weak injection
(``strength`` well below 1) is labelled negative when it does not show what the kind
claims, and the labels follow the definitions rather than the request.

Rules (``n`` steps; ``m`` the logging interval, ``val_every`` for the per-epoch keras
naming; logs are natural; "before onset" is the clean value at the step before the onset):

- ``overfitting``: the clean train loss falls >= 2 % from onset to the end, and either the
  clean validation loss ends >= 10 % above its minimum after onset, or it improves < 3 %
  after onset while the log validation/train gap widens by >= 0.1.
- ``stalled``: from onset to the end (medians over the 2 % of steps from onset and over the
  last 10 %) the run's clean log train loss falls by < 20 % of what its twin's falls, and
  it ends above the twin by >= 25 % of the twin's whole log fall (from the first 2 % of
  steps to the last 10 %): far above what the setup reaches; a converged run is not
  stalled.
- ``divergence``: the loss turns non-finite, or the clean loss at the end is >= 10x its
  value before onset.
- ``loss_spikes``: a spike counts if its logged height (log of the interval mean with the
  spike over the interval mean of the twin) is >= 8 sd of the logged noise (above anything
  the noise makes: innovations are clipped at 6 sd) and, 2 % of the run later (at least 10
  logging intervals), it has fallen back by 90 % of its height or to within 3 sd. The onset
  is the first spike that counts.
- ``oscillation``: the median over the steps after onset of the ratio of the logged
  train-loss volatility (noise sd, plus the sine's sd after interval averaging) to the
  twin's noise sd is >= 2.
- ``exploding_gradients``: the clean grad norm is >= 10x its median over the 5 % of steps
  before the candidate onset on >= 3 steps, >= 2 of them logged (more than one outlier),
  before any NaN. The onset is the first such step.
- ``vanishing_gradients``: over the vanishing period (>= 10 % of the run) the median clean
  grad norm is <= 1e-2 of the twin's.

Each rule also returns the statistic it measured, stored in the truth's
``config["label_stats"]``: the validation rise (log), ``[fall ratio, end gap / whole fall]``,
the growth in decades, every spike's height in logged-noise sd, the volatility ratio, the
peak grad-norm ratio in decades, and the median log10 grad-norm ratio.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dynamics_stats.core.types import FloatArray, JSONValue
from dynamics_stats.io._synthetic_build import CleanLogs

__all__ = ["Signals", "label_kinds", "noise_factor", "rule_inputs"]

LN10 = math.log(10.0)
SPIKE_Z = 8.0  # spike height in logged-noise sd
VOLATILITY_RATIO = 2.0


def noise_factor(m: int, phi: float) -> float:
    """Sd of the mean of ``m`` consecutive unit-variance AR(1) values (coefficient ``phi``)."""
    k = np.arange(1, m)
    return math.sqrt((1.0 + 2.0 * float(np.sum((1.0 - k / m) * phi**k))) / m)


def _block_log_means(logs: FloatArray, m: int) -> FloatArray:
    """Log of the mean of ``exp(logs)`` over each logging interval of ``m`` steps."""
    n = len(logs) // m
    blocks = logs[: n * m].reshape(n, m)
    top = blocks.max(axis=1, keepdims=True)
    return np.asarray(np.log(np.exp(blocks - top).mean(axis=1)) + top[:, 0], dtype=float)


@dataclass(frozen=True, slots=True)
class Signals:
    """What the rules read: the clean run, its clean healthy twin and how it is logged."""

    run: CleanLogs
    twin: CleanLogs  # the same run without the injection (hard-negative feature kept)
    log_every: int  # steps per logged train-loss point
    noise_phi: float  # AR(1) coefficient of the train noise
    nan_from: int | None = None  # index where the loss turns non-finite
    spike_steps: tuple[int, ...] = ()
    oscillation: tuple[float, float] | None = None  # (period, amplitude) of a sine
    vanish_stop: int | None = None  # index where vanishing gradients end

    @property
    def n(self) -> int:
        """Number of steps."""
        return len(self.run.train)

    @property
    def finite_stop(self) -> int:
        """Index where the loss turns non-finite (``n`` if it never does)."""
        return self.n if self.nan_from is None else self.nan_from


def rule_inputs(config: Mapping[str, JSONValue]) -> dict[str, Any]:
    """Pick the `Signals` fields that come from an injector's drawn parameters."""
    steps = config.get("spike_steps", [])
    inputs: dict[str, Any] = {"spike_steps": tuple(steps) if isinstance(steps, list) else ()}
    if "oscillation_period" in config:
        inputs["oscillation"] = (config["oscillation_period"], config["oscillation_amplitude"])
    if "vanish_stop_step" in config:
        inputs["vanish_stop"] = config["vanish_stop_step"]
    if isinstance(nan_step := config.get("diverge_nan_step"), int):
        inputs["nan_from"] = nan_step - 1
    return inputs


Rule = Callable[[Signals, int], tuple[bool, JSONValue]]


def _overfitting(s: Signals, i0: int) -> tuple[bool, JSONValue]:
    run = s.run
    train_fall = run.train[i0] - run.train[-1]
    rise = float(run.val[-1] - np.min(run.val[i0:]))
    stopped = run.val[i0] - run.val[-1] < -math.log(0.97)
    widened = (run.val[-1] - run.train[-1]) - (run.val[i0] - run.train[i0]) >= 0.1
    ok = train_fall >= -math.log(0.98) and (rise >= math.log(1.1) or (stopped and widened))
    return bool(ok), rise


def _stalled(s: Signals, i0: int) -> tuple[bool, JSONValue]:
    width = max(1, int(0.02 * s.n))
    run_end = float(np.median(s.run.train[int(0.9 * s.n) :]))
    twin_end = float(np.median(s.twin.train[int(0.9 * s.n) :]))
    fall = float(np.median(s.run.train[i0 : i0 + width])) - run_end
    twin_fall = float(np.median(s.twin.train[i0 : i0 + width])) - twin_end
    whole = float(np.median(s.twin.train[:width])) - twin_end
    ratio = fall / twin_fall if twin_fall > 0 else 1.0
    above = (run_end - twin_end) / whole if whole > 0 else 0.0
    return bool(above >= 0.25 and ratio < 0.2), [ratio, above]


def _divergence(s: Signals, i0: int) -> tuple[bool, JSONValue]:
    growth = float(s.run.train[-1] - s.run.train[max(i0 - 1, 0)]) / LN10
    return bool(s.finite_stop < s.n or growth >= 1.0), growth


def _oscillation(s: Signals, i0: int) -> tuple[bool, JSONValue]:
    ratio = s.run.train_sd[i0:] / s.twin.train_sd[i0:]
    if s.oscillation is not None:
        (period, amp), m = s.oscillation, s.log_every
        gain = abs(math.sin(math.pi * m / period) / (m * math.sin(math.pi / period)))
        noise_sd = s.twin.train_sd[i0:] * noise_factor(m, s.noise_phi)
        ratio = np.sqrt(ratio**2 + 0.5 * (amp * gain) ** 2 / noise_sd**2)
    value = float(np.median(ratio))
    return value >= VOLATILITY_RATIO, value


def _vanishing(s: Signals, i0: int) -> tuple[bool, JSONValue]:
    stop = s.n if s.vanish_stop is None else s.vanish_stop
    drop = float(np.median(s.run.grad[i0:stop] - s.twin.grad[i0:stop])) / LN10
    return drop <= -2.0 and stop - i0 >= 0.1 * s.n, drop


def _first_spike(s: Signals) -> tuple[int, list[float]]:
    """Return the first spike step that counts (0 if none), and every spike's height in sd."""
    m = s.log_every
    excess = _block_log_means(s.run.train, m) - _block_log_means(s.twin.train, m)
    factor = noise_factor(m, s.noise_phi)
    first, heights = 0, []
    for step in s.spike_steps:
        j = min((step - 1) // m, len(excess) - 1)
        sd = float(s.run.train_sd[min(s.n - 1, (j + 1) * m - 1)]) * factor
        height = float(np.max(excess[j : j + 2]))
        later = min(len(excess) - 1, j + max(10, int(0.02 * s.n) // m))
        heights.append(height / sd)
        back = excess[later] < max(3.0 * sd, 0.1 * height)
        if first == 0 and height >= SPIKE_Z * sd and back:
            first = step
    return first, heights


def _first_explosion(s: Signals, i0: int) -> tuple[int, float]:
    """Return the first step >= 10x the running level (0 if too few), and the peak ratio."""
    before = s.run.grad[max(0, i0 - int(0.05 * s.n)) : i0] if i0 > 0 else s.run.grad[:1]
    rel = (s.run.grad[i0 : s.finite_stop] - float(np.median(before))) / LN10
    over = np.flatnonzero(rel >= 1.0)
    n_logged = int(np.sum((i0 + over + 1) % s.log_every == 0))
    peak = float(np.max(rel)) if len(rel) else 0.0
    return (i0 + int(over[0]) + 1 if len(over) >= 3 and n_logged >= 2 else 0), peak


_RULES: dict[str, Rule] = {
    "overfitting": _overfitting,
    "stalled": _stalled,
    "divergence": _divergence,
    "oscillation": _oscillation,
    "vanishing_gradients": _vanishing,
}


def label_kinds(
    candidates: Mapping[str, int], signals: Signals
) -> tuple[dict[str, int], dict[str, JSONValue]]:
    """Keep the candidate kinds whose rule holds; return their onsets and every statistic.

    Parameters
    ----------
    candidates : mapping of str to int
        Kind -> the step where the injection of that kind starts.
    signals : Signals
        The clean run, its twin and how they are logged.

    Returns
    -------
    onsets : dict of str to int
        The labelled kinds and the first step where each shows.
    stats : dict of str to JSON value
        The statistic each candidate's rule measured (see the module docstring).
    """
    onsets: dict[str, int] = {}
    stats: dict[str, JSONValue] = {}
    for kind, onset in candidates.items():
        if kind == "loss_spikes":
            first, heights = _first_spike(signals)
            stats[kind] = list(heights)
        elif kind == "exploding_gradients":
            first, stats[kind] = _first_explosion(signals, onset - 1)
        else:
            ok, stats[kind] = _RULES[kind](signals, onset - 1)
            first = onset if ok else 0
        if first:
            onsets[kind] = first
    return onsets, stats
