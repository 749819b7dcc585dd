"""Fixtures of the callback tests: running a real two-process (DDP) training script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DDP_TIMEOUT_SECONDS = 300  # a healthy two-process run takes 15-30 s here
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
        _, stderr = process.communicate(timeout=DDP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"the two-process run did not end within {DDP_TIMEOUT_SECONDS} s (hung)")
    assert process.returncode == 0, stderr[-3000:]
    return {rank: json.loads((out / f"rank{rank}.json").read_text()) for rank in (0, 1)}


@pytest.fixture
def two_processes() -> Callable[[list[str], Path], RankRecords]:
    """`run_two_processes`, for tests that train with two processes."""
    return run_two_processes
