"""The analysis worker process: ``python -m dynamics_stats.callbacks._worker SOURCE``.

A plain subprocess (not `multiprocessing`), so it never re-runs the user's training
script; requests and replies follow `dynamics_stats.callbacks._protocol` (no pickle).
"""

from __future__ import annotations

import json
import os
import sys

from dynamics_stats.callbacks._analysis import analyze_history
from dynamics_stats.callbacks._protocol import read_request

__all__ = ["serve"]


def serve(source: str) -> None:
    """Answer requests from stdin on stdout until stdin closes (at a lower CPU priority)."""
    if hasattr(os, "nice"):
        os.nice(19)  # the lowest priority: training keeps the CPU when they compete
    while (request := read_request(sys.stdin.buffer)) is not None:
        step, frame, hparams, config = request
        result = analyze_history(frame, hparams, config, source=source) if len(frame) else None
        reply = {"step": step, "result": None if result is None else result.to_dict()}
        sys.stdout.write(json.dumps(reply, allow_nan=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else "<monitor>")
