"""Bounded history of the metrics and its conversion to a RunLog."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dynamics_stats.callbacks.history import MetricHistory, RunHistory, frame_to_run_log
from dynamics_stats.validate import validate_run


def test_history_stays_bounded_and_covers_the_whole_run() -> None:
    history = MetricHistory(max_points=100)
    for step in range(100_000):
        history.append(step, float(step))
    assert history.steps.size <= 100
    assert history.steps[0] == 0
    assert history.steps[-1] >= 100_000 - 2 * history.stride
    assert np.all(np.diff(history.steps) == history.stride)


def test_non_finite_values_are_always_kept() -> None:
    history = MetricHistory(max_points=8)
    for step in range(50):
        history.append(step, math.nan if step == 37 else 1.0)
    assert 37.0 in history.steps.tolist()


def test_history_becomes_a_run_log_with_roles_and_hparams() -> None:
    history = RunHistory(max_points=64)
    for step in range(1, 40):
        history.append("train_loss", step, 2.0 / step)
        history.append("grad_norm", step, 1.0)
        if step % 10 == 0:
            history.append("val_loss", step, 2.5 / step)
    frame = history.to_frame()
    assert set(frame["metric"]) == {"train_loss", "grad_norm", "val_loss"}
    assert len(history) == len(frame) == 39 + 39 + 3
    log = frame_to_run_log(frame, {"gradient_clip_val": 1.0}, source="<test>")
    artifacts = validate_run(log)
    assert artifacts.get("train_loss") is not None
    assert artifacts.get("val_loss") is not None
    assert artifacts.get("grad_norm") is not None
    assert artifacts.hparams["gradient_clip_val"] == 1.0


def test_empty_history_gives_an_empty_frame() -> None:
    assert RunHistory().to_frame().empty


@pytest.mark.parametrize("capacity", [4, 8, 100])
def test_extend_keeps_the_same_points_as_appending_one_by_one(capacity: int) -> None:
    rng = np.random.default_rng(capacity)
    values = rng.normal(size=3000)
    values[rng.integers(0, values.size, 5)] = math.nan
    steps = np.arange(values.size, dtype=float)
    appended, extended = MetricHistory(capacity), MetricHistory(capacity)
    for step, value in zip(steps, values, strict=True):
        appended.append(step, value)
    position = 0
    while position < values.size:
        size = int(rng.integers(1, 300))
        extended.extend(steps[position : position + size], values[position : position + size])
        position += size
    np.testing.assert_array_equal(extended.steps, appended.steps)
    np.testing.assert_array_equal(extended.values, appended.values)
    assert (extended.stride, extended.n_seen) == (appended.stride, appended.n_seen)


def test_a_saved_history_continues_as_if_never_interrupted() -> None:
    uninterrupted, first = MetricHistory(max_points=16), MetricHistory(max_points=16)
    values = [math.nan if step == 29 else float(step) for step in range(100)]
    for step, value in enumerate(values):
        uninterrupted.append(step, value)
        if step < 40:
            first.append(step, value)
    resumed = MetricHistory(max_points=16)
    resumed.load_state_dict(first.state_dict())
    for step in range(40, 100):
        resumed.append(step, values[step])
    assert resumed.steps.tolist() == uninterrupted.steps.tolist()
    np.testing.assert_array_equal(resumed.values, uninterrupted.values)
    assert (resumed.stride, resumed.n_seen) == (uninterrupted.stride, uninterrupted.n_seen)


def test_a_history_saved_with_more_room_is_thinned_on_loading() -> None:
    large = MetricHistory(max_points=64)
    for step in range(60):
        large.append(step, float(step))
    small = MetricHistory(max_points=16)
    small.load_state_dict(large.state_dict())
    assert small.steps.size <= 16
    assert small.stride == 4
    assert small.steps.tolist() == list(range(0, 60, 4))


def test_a_saved_history_with_unequal_lengths_is_refused() -> None:
    saved = {"stride": 1, "n_seen": 3, "steps": [0.0, 1.0, 2.0], "values": [1.0, 2.0]}
    with pytest.raises(ValueError, match="differ in length"):
        MetricHistory().load_state_dict(saved)


def test_run_history_state_holds_every_metric() -> None:
    history = RunHistory(max_points=8)
    history.extend("train_loss", np.arange(5.0), np.linspace(2, 1, 5))
    history.append("val_loss", 4, 1.5)
    restored = RunHistory(max_points=8)
    restored.load_state_dict(history.state_dict())
    assert set(restored.metrics) == {"train_loss", "val_loss"}
    for name, (steps, values) in history.snapshot().items():
        np.testing.assert_array_equal(restored.snapshot()[name][0], steps)
        np.testing.assert_array_equal(restored.snapshot()[name][1], values)
