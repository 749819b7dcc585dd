"""`RunHistory`: the metrics seen so far, kept in bounded memory, as a `RunLog`.

Each metric keeps at most ``max_points`` points: when full, every second point is dropped
and from then on only every second new point is kept (the stride doubles), so memory is
bounded and a whole run stays evenly covered. Non-finite values are always kept, since
they are the evidence of a divergence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, HParamValue
from dynamics_stats.io import LoadOptions
from dynamics_stats.io.dataframe import frame_to_log

__all__ = ["MetricHistory", "RunHistory", "Snapshot", "frame_to_run_log", "snapshot_to_frame"]

Snapshot = dict[str, tuple[FloatArray, FloatArray]]
"""Kept points of every metric: name -> (steps, values)."""


class MetricHistory:
    """Steps and values of one metric, at most ``max_points`` of them.

    Parameters
    ----------
    max_points : int, default=4096
        Capacity; must be even.

    Notes
    -----
    Appending is O(1) amortized: a thinning costs O(max_points) and halves the stored
    points, after which ``max_points / 2`` appends are free.

    Examples
    --------
    >>> history = MetricHistory(max_points=4)
    >>> for step in range(10):
    ...     history.append(step, float(step))
    >>> history.steps.tolist(), history.stride
    ([0.0, 4.0, 8.0], 4)
    """

    def __init__(self, max_points: int = 4096) -> None:
        self.max_points = max_points - max_points % 2
        self.stride = 1
        self.n_seen = 0
        self._size = 0
        self._steps = np.empty(self.max_points)
        self._values = np.empty(self.max_points)

    def append(self, step: float, value: float) -> None:
        """Add one point (kept when it falls on the stride or is non-finite)."""
        index = self.n_seen
        self.n_seen += 1
        if index % self.stride and math.isfinite(value):
            return
        if self._size == self.max_points:
            self._thin()
        self._steps[self._size] = step
        self._values[self._size] = value
        self._size += 1

    def extend(self, steps: FloatArray, values: FloatArray) -> None:
        """Add points in order; the same outcome as one `append` per point, vectorised."""
        start = 0
        while start < values.size:
            rest = values[start:]
            positions = self.n_seen + np.arange(rest.size)
            kept = np.flatnonzero((positions % self.stride == 0) | ~np.isfinite(rest))
            room = self.max_points - self._size
            take = kept[:room]
            self._steps[self._size : self._size + take.size] = steps[start:][take]
            self._values[self._size : self._size + take.size] = rest[take]
            self._size += take.size
            if kept.size <= room:
                self.n_seen += rest.size
                return
            # the next kept point finds the history full: thin, then store it
            index = int(kept[room])
            self._thin()
            self._steps[self._size] = steps[start + index]
            self._values[self._size] = rest[index]
            self._size += 1
            self.n_seen += index + 1
            start += index + 1

    def _thin(self) -> None:
        keep = self._size // 2
        self._steps[:keep] = self._steps[: self._size : 2]
        self._values[:keep] = self._values[: self._size : 2]
        self._size = keep
        self.stride *= 2

    def state_dict(self) -> dict[str, Any]:
        """Return the kept points and the thinning state as plain Python values."""
        return {
            "stride": self.stride,
            "n_seen": self.n_seen,
            "steps": self.steps.tolist(),
            "values": self.values.tolist(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Replace the history by one saved with `state_dict` (thinned to this capacity).

        Raises
        ------
        ValueError
            When the steps and values differ in length.
        """
        steps = np.asarray(state["steps"], dtype=float)
        values = np.asarray(state["values"], dtype=float)
        if steps.shape != values.shape or steps.ndim != 1:
            raise ValueError("saved monitor history: steps and values differ in length")
        self.stride, self.n_seen = max(int(state["stride"]), 1), int(state["n_seen"])
        while steps.size > self.max_points:  # saved with a larger capacity
            steps, values, self.stride = steps[::2], values[::2], 2 * self.stride
        self._size = steps.size
        self._steps[: self._size] = steps
        self._values[: self._size] = values

    @property
    def steps(self) -> FloatArray:
        """Steps of the kept points (a view)."""
        return self._steps[: self._size]

    @property
    def values(self) -> FloatArray:
        """Values of the kept points (a view)."""
        return self._values[: self._size]


class RunHistory:
    """The history of every metric of a run, by name.

    Parameters
    ----------
    max_points : int, default=4096
        Capacity per metric.
    """

    def __init__(self, max_points: int = 4096) -> None:
        self.max_points = max_points
        self.metrics: dict[str, MetricHistory] = {}

    def append(self, name: str, step: float, value: float) -> None:
        """Add one point of metric ``name``."""
        history = self.metrics.get(name)
        if history is None:
            history = self.metrics[name] = MetricHistory(self.max_points)
        history.append(step, value)

    def extend(self, name: str, steps: FloatArray, values: FloatArray) -> None:
        """Add points of metric ``name`` in order."""
        history = self.metrics.get(name)
        if history is None:
            history = self.metrics[name] = MetricHistory(self.max_points)
        history.extend(steps, values)

    def snapshot(self) -> Snapshot:
        """Return a copy of the kept ``(steps, values)`` of every metric that has points."""
        return {
            name: (h.steps.copy(), h.values.copy())
            for name, h in self.metrics.items()
            if h.steps.size
        }

    def state_dict(self) -> dict[str, Any]:
        """Return every metric's history as plain Python values (for a checkpoint)."""
        return {name: h.state_dict() for name, h in self.metrics.items()}

    def load_state_dict(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the history by one saved with `state_dict`."""
        self.metrics = {}
        for name, saved in state.items():
            history = self.metrics[str(name)] = MetricHistory(self.max_points)
            history.load_state_dict(saved)

    def to_frame(self) -> pd.DataFrame:
        """Return the history as a long frame with columns ``step``, ``metric``, ``value``."""
        return snapshot_to_frame(self.snapshot())

    def __len__(self) -> int:
        return sum(h.steps.size for h in self.metrics.values())


def snapshot_to_frame(snapshot: Snapshot) -> pd.DataFrame:
    """Return a snapshot as a long frame with columns ``step``, ``metric``, ``value``."""
    parts = [
        pd.DataFrame({"step": steps, "metric": name, "value": values})
        for name, (steps, values) in snapshot.items()
        if steps.size
    ]
    if not parts:
        return pd.DataFrame({"step": [], "metric": [], "value": []})
    return pd.concat(parts, ignore_index=True)


def frame_to_run_log(
    frame: pd.DataFrame, hparams: Mapping[str, HParamValue], *, source: str
) -> RunLog:
    """Build the `RunLog` the full analysis reads from a history frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        From `RunHistory.to_frame`.
    hparams : mapping of str to scalar
        Hyper-parameters of the run (clipping threshold, learning rate...).
    source : str
        What to call the run in messages and in the result.

    Returns
    -------
    RunLog
    """
    log = frame_to_log(frame, LoadOptions(), source=source, format="monitor")
    return RunLog(
        source=log.source,
        format=log.format,
        records=log.records,
        step_unit=log.step_unit,
        hparams=dict(hparams),
        notes=log.notes,
    )
