"""LightningMonitor in real two-process DDP training on the CPU (gloo)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("lightning")
pytest.importorskip("torch")
import torch.distributed  # noqa: E402

from dynamics_stats.callbacks.monitor import REPORT_JSON  # noqa: E402

Runner = Callable[[list[str], Path], dict[int, dict[str, Any]]]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
        reason="torch.distributed with gloo is needed for CPU DDP",
    ),
]
SCRIPT = Path(__file__).with_name("_ddp_run.py")
MAX_STEPS = 300


def command(out: Path, lr: float, mode: str) -> list[str]:
    """The command that runs the two-process training into ``out``."""
    return [sys.executable, str(SCRIPT), str(out), str(lr), mode]


def test_only_rank_zero_monitors_a_healthy_ddp_run(tmp_path: Path, two_processes: Runner) -> None:
    seen = two_processes(command(tmp_path, 0.1, "watch"), tmp_path)
    assert seen[0]["global_step"] == seen[1]["global_step"] == MAX_STEPS
    assert seen[0]["losses_seen"] >= MAX_STEPS - 1
    assert seen[0]["analyses"] >= 2  # the inline analyses and the final one
    assert seen[1] == {
        "rank": 1,
        "global_step": MAX_STEPS,
        "alerts": [],
        "analyses": 0,
        "losses_seen": 0,
    }
    assert (tmp_path / REPORT_JSON).is_file()


def test_rank_zeros_stop_on_divergence_stops_every_process_at_one_step(
    tmp_path: Path, two_processes: Runner
) -> None:
    seen = two_processes(command(tmp_path, 10.0, "stop"), tmp_path)
    assert seen[0]["global_step"] == seen[1]["global_step"] < MAX_STEPS
    assert "divergence" in seen[0]["alerts"]
    assert seen[1]["alerts"] == [] and seen[1]["analyses"] == 0
