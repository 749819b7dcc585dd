"""The byte protocol between a monitor and its analysis worker process (no pickle).

Each request is one JSON header line
(``{"step", "metrics": [[name, n_points], ...], "hparams", "config"}``) followed by, for
each metric, its steps then its values as little-endian float64 bytes; each reply is one
JSON line ``{"step", "result"}`` where ``result`` is ``AgentResult.to_dict()`` or null.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
import pandas as pd

from dynamics_stats.core.types import FloatArray

__all__ = ["read_request", "write_request"]

_DTYPE = np.dtype("<f8")


def write_request(
    stream: IO[bytes],
    step: int,
    snapshot: Mapping[str, tuple[FloatArray, FloatArray]],
    hparams: dict[str, Any],
    config: Any,
) -> None:
    """Write one analysis request for a history snapshot (name -> (steps, values))."""
    header = {
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


def read_request(stream: IO[bytes]) -> tuple[int, pd.DataFrame, dict[str, Any], Any] | None:
    """Read one request written by `write_request`; None at end of input."""
    line = stream.readline()
    if not line:
        return None
    header = json.loads(line)
    parts = []
    for name, n_points in header["metrics"]:
        steps = np.frombuffer(stream.read(n_points * 8), dtype=_DTYPE)
        values = np.frombuffer(stream.read(n_points * 8), dtype=_DTYPE)
        parts.append(pd.DataFrame({"step": steps, "metric": name, "value": values}))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return header["step"], frame, header["hparams"], header["config"]
