"""Online checks of one metric: the same alerts whatever the blocks the values come in."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dynamics_stats.callbacks._watch import MetricWatch
from dynamics_stats.callbacks.config import MonitorConfig


def noisy_norm_with_events(rng: np.random.Generator, n_steps: int = 2000) -> np.ndarray:
    norm = np.exp(rng.normal(0, 0.1, n_steps))
    norm[[300, 301, 900]] *= 30  # spikes
    norm[1200:] *= 3  # a lasting rise
    return norm


def alerts_by_blocks(values: np.ndarray, sizes: list[int]) -> list[tuple]:
    """(kind, step, value) of every alert, sorted, with values fed in blocks of ``sizes``."""
    watch = MetricWatch("grad_norm", MonitorConfig())
    steps = np.arange(1, values.size + 1, dtype=float)
    found, position, turn = [], 0, 0
    while position < values.size:
        size = sizes[turn % len(sizes)]
        found += watch.update_many(
            steps[position : position + size], values[position : position + size]
        )
        position, turn = position + size, turn + 1
    return sorted((a.kind, a.step, round(a.value, 9)) for a in found)


@pytest.mark.parametrize("sizes", [[7], [128], [1, 50, 3, 200]])
def test_alerts_do_not_depend_on_the_block_sizes(sizes: list[int]) -> None:
    values = noisy_norm_with_events(np.random.default_rng(0))
    assert alerts_by_blocks(values, sizes) == alerts_by_blocks(values, [1])


def test_spikes_and_a_lasting_rise_are_found() -> None:
    values = noisy_norm_with_events(np.random.default_rng(1))
    found = alerts_by_blocks(values, [128])
    spikes = [step for kind, step, _ in found if kind == "grad_norm_spike"]
    rises = [(step, shift) for kind, step, shift in found if kind == "changepoint"]
    # one region for the 2-step spike at 301-302; the sudden rise at 1201 starts as a spike
    assert spikes == [301, 901, 1201]
    assert len(rises) == 1
    step, shift = rises[0]
    assert abs(step - 1201) <= MonitorConfig().changepoint_block
    assert shift == pytest.approx(math.log(3.0), abs=0.15)


def test_check_reports_the_first_non_finite_value_only() -> None:
    watch = MetricWatch("train_loss", MonitorConfig())
    assert watch.check(1, 2.0) is None
    alert = watch.check(2, math.nan)
    assert alert is not None and (alert.kind, alert.step, alert.severity) == (
        "divergence",
        2,
        "critical",
    )
    assert watch.check(3, math.inf) is None
