"""The byte protocol between a monitor and its analysis worker process (no pickle).

Each request is one JSON header line followed by little-endian float64 bytes:

- an analysis request, ``{"kind": "analysis", "step", "metrics": [[name, n_points],
  ...], "hparams", "config"}``, then for each metric its steps and its values;
- a watch request, ``{"kind": "watch", "metric", "n_points", "settings"}``, then the
  steps and the values of one block of that metric for the online tests.

Each reply is one JSON line: ``{"kind": "result", "step", "result"}`` (``result`` is
``AgentResult.to_dict()`` or null) for an analysis, ``{"kind": "alerts", "metric",
"alerts"}`` (``Alert.to_dict()`` each) for a watched block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pandas as pd

from dynamics_stats.core.types import FloatArray

__all__ = [
    "AnalysisRequest",
    "WatchRequest",
    "read_request",
    "write_request",
    "write_watch_request",
]

_DTYPE = np.dtype("<f8")


@dataclass(frozen=True)
class AnalysisRequest:
    """An analysis of a history snapshot (``frame`` in the long format) taken at ``step``."""

    step: int
    frame: pd.DataFrame
    hparams: dict[str, Any]
    config: Any


@dataclass(frozen=True)
class WatchRequest:
    """One block of a metric for the online tests (`MetricWatch` settings by name)."""

    metric: str
    steps: FloatArray
    values: FloatArray
    settings: dict[str, Any]


def write_request(
    stream: IO[bytes],
    step: int,
    snapshot: Mapping[str, tuple[FloatArray, FloatArray]],
    hparams: dict[str, Any],
    config: Any,
) -> None:
    """Write one analysis request for a history snapshot (name -> (steps, values))."""
    header = {
        "kind": "analysis",
        "step": step,
        "metrics": [[str(name), len(steps)] for name, (steps, _) in snapshot.items()],
        "hparams": hparams,
        "config": config,
    }
    chunks = [json.dumps(header).encode() + b"\n"]
    for steps, values in snapshot.values():
        chunks.append(np.asarray(steps, dtype=_DTYPE).tobytes())
        chunks.append(np.asarray(values, dtype=_DTYPE).tobytes())
    stream.write(b"".join(chunks))
    stream.flush()


def write_watch_request(
    stream: IO[bytes],
    metric: str,
    steps: FloatArray,
    values: FloatArray,
    settings: Mapping[str, Any],
) -> None:
    """Write one block of ``metric`` for the worker's online tests."""
    header = {"kind": "watch", "metric": metric, "n_points": len(steps), "settings": settings}
    stream.write(
        json.dumps(header).encode()
        + b"\n"
        + np.asarray(steps, dtype=_DTYPE).tobytes()
        + np.asarray(values, dtype=_DTYPE).tobytes()
    )
    stream.flush()


def read_request(stream: IO[bytes]) -> AnalysisRequest | WatchRequest | None:
    """Read one request written by `write_request` or `write_watch_request`; None at EOF."""
    line = stream.readline()
    if not line:
        return None
    header = json.loads(line)
    if header["kind"] == "watch":
        steps, values = _read_pair(stream, header["n_points"])
        return WatchRequest(header["metric"], steps, values, header["settings"])
    parts = []
    for name, n_points in header["metrics"]:
        steps, values = _read_pair(stream, n_points)
        parts.append(pd.DataFrame({"step": steps, "metric": name, "value": values}))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return AnalysisRequest(header["step"], frame, header["hparams"], header["config"])


def _read_pair(stream: IO[bytes], n_points: int) -> tuple[FloatArray, FloatArray]:
    steps = np.frombuffer(stream.read(n_points * 8), dtype=_DTYPE)
    return steps, np.frombuffer(stream.read(n_points * 8), dtype=_DTYPE)
