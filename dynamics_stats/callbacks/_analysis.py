"""`AnalysisRunner`: run the full calibrated analysis inline or in a worker process.

The worker is one subprocess running `dynamics_stats.callbacks._worker` (a plain
subprocess, so the user's training script is never re-executed, and no pickle); at most
one analysis is pending at a time, so a slow analysis is skipped rather than queued.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

import pandas as pd

from dynamics_stats.agent.analyze import analyze
from dynamics_stats.callbacks._protocol import write_request, write_watch_request
from dynamics_stats.callbacks.alerts import LOGGER_NAME, Alert
from dynamics_stats.callbacks.history import Snapshot, frame_to_run_log, snapshot_to_frame
from dynamics_stats.core.agent_result import AgentResult
from dynamics_stats.core.analysis_config import AnalysisConfig
from dynamics_stats.core.errors import DynamicsStatsError
from dynamics_stats.core.types import FloatArray, HParamValue

__all__ = ["AnalysisRunner", "analyze_history"]

_logger = logging.getLogger(LOGGER_NAME)
Outcome = tuple[int, AgentResult | None]
# the worker's numerical libraries run single-threaded: it uses a spare core, not all of them
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_SINGLE_THREADED = dict.fromkeys(_THREAD_VARIABLES, "1")


def analyze_history(
    frame: pd.DataFrame,
    hparams: Mapping[str, HParamValue],
    config: AnalysisConfig | Mapping[str, Any],
    *,
    source: str,
) -> AgentResult | None:
    """Analyse a history frame; None when it cannot be analysed yet (too short, no loss).

    Parameters
    ----------
    frame : pandas.DataFrame
        Long frame (``step``, ``metric``, ``value``) from `RunHistory.to_frame`.
    hparams : mapping of str to scalar
        Hyper-parameters of the run.
    config : AnalysisConfig or mapping
        Settings of the analysis (a plain mapping when sent to the worker process).
    source : str
        Name of the run in the result.

    Returns
    -------
    AgentResult or None
    """
    if not isinstance(config, AnalysisConfig):
        config = AnalysisConfig.from_dict(config)
    try:
        return analyze(frame_to_run_log(frame, hparams, source=source), config)
    except DynamicsStatsError as err:
        _logger.debug("full analysis skipped: %s", err)
        return None


def plain_config(value: Any) -> Any:
    """Turn a frozen config into plain dicts and lists (JSON), readable by ``from_dict``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [(f, getattr(value, f.name)) for f in dataclasses.fields(value)]
        # a None left at its default is omitted: from_dict reads nested tables only
        return {
            f.name: plain_config(v) for f, v in fields if v is not None or f.default is not None
        }
    if isinstance(value, Mapping):
        return {k: plain_config(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [plain_config(v) for v in value]
    return value


# ("analysis", (step, snapshot, hparams, config)) or ("watch", (metric, steps, values,
# settings)); ("result", (step, result)) or ("alerts", [Alert, ...]) back
Request = tuple[str, tuple[Any, ...]]
Reply = tuple[str, Any]
_WRITERS: dict[str, Callable[..., None]] = {
    "analysis": write_request,
    "watch": write_watch_request,
}


def _write_requests(stream: IO[bytes], requests: queue.SimpleQueue[Request | None]) -> None:
    """Write the queued requests to the worker until None arrives (the writer thread).

    The pipe blocks until the worker reads (it may be starting), so the training thread
    only queues a request.
    """
    while (request := requests.get()) is not None:
        kind, args = request
        try:
            _WRITERS[kind](stream, *args)
        except (OSError, ValueError) as err:  # the worker died or was closed: poll() sees it
            _logger.debug("%s request not sent to the analysis worker: %s", kind, err)


def _read_replies(stream: IO[bytes], replies: queue.Queue[Reply | None]) -> None:
    """Parse the worker's reply lines (the reader thread), then put None when it exits.

    Parsed here, beside training, so `AnalysisRunner.poll` only takes finished replies.
    """
    for line in stream:
        try:
            replies.put(_parse_reply(line))
        except (ValueError, KeyError, TypeError) as err:
            _logger.warning("unreadable reply from the analysis worker skipped: %s", err)
            # still answers its request (the kind is the first key written)
            is_result = line.startswith(b'{"kind": "result"')
            replies.put(("result", (-1, None)) if is_result else ("alerts", []))
    replies.put(None)  # the worker exited


def _parse_reply(line: bytes) -> Reply:
    reply = json.loads(line)
    if reply["kind"] == "alerts":
        return "alerts", [Alert.from_dict(alert) for alert in reply["alerts"]]
    result = reply["result"]
    return "result", (reply["step"], None if result is None else AgentResult.from_dict(result))


class AnalysisRunner:
    """Run analyses of the history, in a worker process or at once; and online tests there.

    In the background the worker also runs the online spike and changepoint tests of the
    blocks sent with `watch`; their alerts arrive with the replies (`take_alerts`).

    Parameters
    ----------
    config : AnalysisConfig
        Settings of the analysis.
    background : bool, default=True
        Use one worker subprocess; fall back to inline if it cannot start or dies.
    source : str, default="<monitor>"
        Name of the run in the results.
    """

    def __init__(
        self, config: AnalysisConfig, *, background: bool = True, source: str = "<monitor>"
    ) -> None:
        self.config = config
        self.background = background
        self.source = source
        self.busy = False
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._requests: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self._replies: queue.Queue[Reply | None] = queue.Queue()
        self._n_watched = 0  # blocks sent to the online tests, not answered yet
        self._alerts: list[Alert] = []  # from the worker's online tests, not taken yet
        self._ready: Outcome | None = None  # a finished analysis, not taken yet

    def submit(
        self, step: int, snapshot: Snapshot, hparams: Mapping[str, HParamValue]
    ) -> Outcome | None:
        """Start an analysis of the history ``snapshot`` taken at ``step``.

        Returns
        -------
        (int, AgentResult or None) or None
            The result at once when running inline; None when sent to the worker (read it
            with `poll`) or when the worker is still busy with the previous one.
        """
        if not self.background:
            frame = snapshot_to_frame(snapshot)
            return step, analyze_history(frame, hparams, self.config, source=self.source)
        if self.busy:
            return None
        try:
            self._start()
        except OSError as err:
            _logger.warning("analysis worker unavailable (%s); analysing inline instead", err)
            self.background = False
            return self.submit(step, snapshot, hparams)
        self._requests.put(("analysis", (step, snapshot, dict(hparams), self._plain)))
        self.busy = True
        _logger.debug("analysis of step %d sent to the worker", step)
        return None

    def watch(
        self, metric: str, steps: FloatArray, values: FloatArray, settings: Mapping[str, Any]
    ) -> bool:
        """Send a block of ``metric`` to the worker's online tests (`MetricWatch`).

        Parameters
        ----------
        metric : str
            Role of the metric (its watch in the worker).
        steps, values : numpy.ndarray
            The block, in step order.
        settings : mapping
            `MonitorConfig` fields the watch reads (spike and changepoint settings).

        Returns
        -------
        bool
            False when running inline (the caller tests the block itself).
        """
        if not self.background:
            return False
        try:
            self._start()
        except OSError as err:
            _logger.warning("analysis worker unavailable (%s); testing inline instead", err)
            self.background = False
            return False
        self._requests.put(("watch", (metric, steps, values, dict(settings))))
        self._n_watched += 1
        return True

    def poll(self) -> Outcome | None:
        """Take the replies that arrived; return ``(step, result)`` of a finished analysis.

        The alerts of the online tests are kept for `take_alerts`.
        """
        while self._process is not None:
            try:
                reply = self._replies.get_nowait()
            except queue.Empty:
                break
            self._take(reply)
        outcome, self._ready = self._ready, None
        return outcome

    def take_alerts(self) -> list[Alert]:
        """Return (and forget) the alerts the worker's online tests sent so far."""
        alerts, self._alerts = self._alerts, []
        return alerts

    def wait_for_watches(self, timeout: float) -> None:
        """Wait until the worker answered every block sent to `watch` (at most ``timeout`` s).

        A finished analysis that arrives meanwhile is kept for `poll`.
        """
        deadline = time.monotonic() + timeout
        while self._process is not None and self._n_watched > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _logger.warning(
                    "online tests of the last %d blocks not answered by the analysis worker "
                    "within %.0f s; their alerts are lost",
                    self._n_watched,
                    timeout,
                )
                return
            try:
                reply = self._replies.get(timeout=remaining)
            except queue.Empty:
                continue
            self._take(reply)

    def _take(self, reply: Reply | None) -> None:
        if reply is None:
            lost = f" (and the online tests of {self._n_watched} blocks)" if self._n_watched else ""
            _logger.warning("analysis worker exited%s; analysing inline from now on", lost)
            self.close()
            self.background = False
            return
        kind, payload = reply
        if kind == "alerts":
            self._alerts.extend(payload)
            self._n_watched -= 1
            return
        self.busy = False
        self._ready = payload
        _logger.debug("analysis of step %d received", payload[0])

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            self._plain = plain_config(self.config)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "dynamics_stats.callbacks._worker", self.source],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, **_SINGLE_THREADED},
            )
            self._reader = threading.Thread(
                target=_read_replies, args=(self._process.stdout, self._replies), daemon=True
            )
            self._reader.start()
            self._requests = queue.SimpleQueue()
            self._writer = threading.Thread(
                target=_write_requests, args=(self._process.stdin, self._requests), daemon=True
            )
            self._writer.start()
        return self._process

    def close(self) -> None:
        """Stop the worker process (a pending analysis is dropped)."""
        process, self._process = self._process, None
        pending, self.busy = self.busy, False
        self._n_watched = 0
        if process is not None and process.stdin is not None:
            if pending:  # neither the analysis nor the reading of its request is waited for
                process.terminate()
            self._requests.put(None)  # the writer thread ends after the request it is writing
            with contextlib.suppress(BrokenPipeError):  # the worker may have died
                process.stdin.close()
            if process.poll() is None:  # a pending analysis is not waited for
                process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for thread in (self._writer, self._reader):
                if thread is not None:
                    thread.join(timeout=2)
            if process.stdout is not None:
                process.stdout.close()
        self._reader = self._writer = None
        self._replies = queue.Queue()
