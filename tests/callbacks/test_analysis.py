"""The full analysis of the history: inline, and in the worker subprocess."""

from __future__ import annotations

import io
import json
import queue
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.callbacks._analysis import (
    AnalysisRunner,
    _read_replies,
    analyze_history,
    plain_config,
)
from dynamics_stats.callbacks._protocol import (
    AnalysisRequest,
    WatchRequest,
    read_request,
    write_request,
    write_watch_request,
)
from dynamics_stats.callbacks.history import Snapshot, snapshot_to_frame
from dynamics_stats.core.analysis_config import AnalysisConfig, PolicyConfig


def history_snapshot(n_steps: int = 200) -> Snapshot:
    rng = np.random.default_rng(3)
    steps = np.arange(1, n_steps + 1, dtype=float)
    loss = (0.2 + 2.0 * steps**-0.5) * np.exp(rng.normal(0, 0.05, n_steps))
    loss[-1] = np.nan
    return {"train_loss": (steps, loss), "val_loss": (steps[::20], loss[::20])}


def test_protocol_round_trip_keeps_every_value_and_nan() -> None:
    snapshot = history_snapshot()
    stream = io.BytesIO()
    write_request(stream, 42, snapshot, {"max_grad_norm": 1.0}, {"min_probability": 0.4})
    stream.seek(0)
    request = read_request(stream)
    assert isinstance(request, AnalysisRequest)
    assert (request.step, request.hparams, request.config) == (
        42,
        {"max_grad_norm": 1.0},
        {"min_probability": 0.4},
    )
    pd.testing.assert_frame_equal(request.frame, snapshot_to_frame(snapshot))
    assert read_request(stream) is None


def test_watch_requests_and_analysis_requests_share_the_stream() -> None:
    stream = io.BytesIO()
    steps, values = np.arange(5.0), np.array([1.0, np.nan, np.inf, 2.0, -3.0])
    write_watch_request(stream, "grad_norm", steps, values, {"spike_z": 5.0})
    write_request(stream, 9, history_snapshot(), {}, {})
    write_watch_request(stream, "train_loss", steps[:0], values[:0], {})
    stream.seek(0)
    first, second, third = (read_request(stream) for _ in range(3))
    assert isinstance(first, WatchRequest) and isinstance(third, WatchRequest)
    assert (first.metric, first.settings) == ("grad_norm", {"spike_z": 5.0})
    np.testing.assert_array_equal(first.steps, steps)
    np.testing.assert_array_equal(first.values, values)
    assert isinstance(second, AnalysisRequest) and second.step == 9
    assert third.metric == "train_loss" and third.values.size == 0
    assert read_request(stream) is None


def test_plain_config_round_trips_through_json() -> None:
    config = AnalysisConfig(
        detectors={"spikes": {"z_threshold": 8.0}},
        disabled_detectors=("efficiency",),
        policy=PolicyConfig(risk_high=0.8),
    )
    assert AnalysisConfig.from_dict(json.loads(json.dumps(plain_config(config)))) == config


def test_analyze_history_returns_none_when_there_is_nothing_to_analyse() -> None:
    frame = pd.DataFrame({"step": [], "metric": [], "value": []})
    assert analyze_history(frame, {}, AnalysisConfig(), source="<test>") is None


def test_inline_runner_answers_at_once() -> None:
    runner = AnalysisRunner(AnalysisConfig(), background=False)
    step, result = runner.submit(200, history_snapshot(), {})  # type: ignore[misc]
    assert step == 200
    assert result is not None
    assert result.run.last_step == 200


@pytest.mark.slow
def test_background_runner_gives_the_same_result_as_inline() -> None:
    snapshot = history_snapshot()
    inline = analyze_history(snapshot_to_frame(snapshot), {}, AnalysisConfig(), source="<monitor>")
    runner = AnalysisRunner(AnalysisConfig(), background=True)
    try:
        assert runner.submit(200, snapshot, {}) is None
        assert runner.busy
        assert runner.submit(201, snapshot, {}) is None  # busy: skipped, not queued
        deadline = time.monotonic() + 120
        while (outcome := runner.poll()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.close()
    assert outcome is not None
    step, result = outcome
    assert step == 200
    assert result is not None and inline is not None
    assert result.to_dict() == inline.to_dict()
    assert not runner.busy


def test_an_unreadable_reply_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # each still answers its request, so the runner neither stays busy nor keeps waiting
    replies: queue.Queue[Any] = queue.Queue()
    good = json.dumps({"kind": "result", "step": 7, "result": None}).encode() + b"\n"
    lines = b'{"kind": "result", "step": 5, "res\n' + b'{"kind": "alerts", [\n' + good
    _read_replies(io.BytesIO(lines), replies)
    assert [replies.get_nowait() for _ in range(4)] == [
        ("result", (-1, None)),
        ("alerts", []),
        ("result", (7, None)),
        None,
    ]
    assert caplog.text.count("unreadable reply") == 2


def test_closing_with_an_analysis_pending_does_not_wait_for_it() -> None:
    # a request too large for the pipe: the writer thread is still writing it while the
    # worker starts (about half a second here); close() must not wait for that
    n_points = 300_000
    snapshot = {"train_loss": (np.arange(1.0, n_points + 1), np.ones(n_points))}
    runner = AnalysisRunner(AnalysisConfig(), background=True)
    assert runner.submit(1, snapshot, {}) is None
    time.sleep(0.2)
    threads = (runner._writer, runner._reader)
    started = time.monotonic()
    runner.close()
    assert time.monotonic() - started < 0.3
    assert not runner.busy
    assert all(thread is not None and not thread.is_alive() for thread in threads)
