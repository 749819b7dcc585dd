"""The analysis worker process: ``python -m dynamics_stats.callbacks._worker SOURCE``.

A plain subprocess (not `multiprocessing`), so it never re-runs the user's training
script; requests and replies follow `dynamics_stats.callbacks._protocol` (no pickle).
Besides full analyses it runs the online spike and changepoint tests of the blocks the
monitor sends (one `MetricWatch` per metric, kept for the life of the process).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from dynamics_stats.callbacks._analysis import analyze_history
from dynamics_stats.callbacks._protocol import AnalysisRequest, WatchRequest, read_request
from dynamics_stats.callbacks._watch import MetricWatch
from dynamics_stats.callbacks.config import MonitorConfig

__all__ = ["serve"]


def serve(source: str) -> None:
    """Answer requests from stdin on stdout until stdin closes (at a lower CPU priority)."""
    if hasattr(os, "nice"):
        os.nice(19)  # the lowest priority: training keeps the CPU when they compete
    watches: dict[str, MetricWatch] = {}
    while (request := read_request(sys.stdin.buffer)) is not None:
        if isinstance(request, WatchRequest):
            reply = watch_reply(watches, request)
        else:
            reply = analysis_reply(request, source)
        sys.stdout.write(json.dumps(reply, allow_nan=False) + "\n")
        sys.stdout.flush()


def analysis_reply(request: AnalysisRequest, source: str) -> dict[str, Any]:
    """Analyse the requested history snapshot."""
    frame = request.frame
    result = (
        analyze_history(frame, request.hparams, request.config, source=source)
        if len(frame)
        else None
    )
    return {
        "kind": "result",
        "step": request.step,
        "result": None if result is None else result.to_dict(),
    }


def watch_reply(watches: dict[str, MetricWatch], request: WatchRequest) -> dict[str, Any]:
    """Run the online tests of one block (the metric's watch is made at its first block)."""
    watch = watches.get(request.metric)
    if watch is None:
        watch = watches[request.metric] = MetricWatch(
            request.metric, MonitorConfig(**request.settings)
        )
    alerts = watch.update_many(request.steps, request.values)
    return {
        "kind": "alerts",
        "metric": request.metric,
        "alerts": [alert.to_dict() for alert in alerts],
    }


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else "<monitor>")
