"""Running a real two-process (DDP) training script from a test, and what each process saw."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

TIMEOUT_SECONDS = 300  # a healthy two-process run takes 15-30 s here
RankRecords = dict[int, dict[str, Any]]


def run_two_processes(command: list[str], out: Path) -> RankRecords:
    """Run ``command`` (a two-process training writing ``out/rank<N>.json``) and read both.

    Fails, rather than hangs, when the processes do not end in time (e.g. one waits in a
    collective the other left); the whole process group is then killed, so no process of
    the launcher outlives the test.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"the two-process run did not end within {TIMEOUT_SECONDS} s (hung)")
    assert process.returncode == 0, stderr[-3000:]
    return {rank: json.loads((out / f"rank{rank}.json").read_text()) for rank in (0, 1)}


def write_rank_record(out: Path, rank: int, global_step: int, monitor: Any) -> None:
    """Write what the monitor of process ``rank`` saw into ``out/rank<rank>.json``."""
    losses = monitor.monitor.history.snapshot().get("train_loss", ((), ()))[0]
    record = {
        "rank": rank,
        "global_step": global_step,
        "alerts": [alert.kind for alert in monitor.alerts],
        "analyses": monitor.monitor.n_analyses,
        "losses_seen": len(losses),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{rank}.json").write_text(json.dumps(record))
