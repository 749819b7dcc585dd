"""Both monitors in real two-process DDP training on the CPU (gloo): Lightning and HF.

Only the process of global rank zero monitors; with ``stop_on_divergence`` its decision
stops every process at the same step (a process stopping alone would leave the other
waiting in its next gradient all-reduce: the run would hang until the time limit).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
import torch.distributed  # noqa: E402
from _distributed import RankRecords, run_two_processes  # noqa: E402

from dynamics_stats.callbacks.monitor import REPORT_JSON  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
        reason="torch.distributed with gloo is needed for CPU DDP",
    ),
]
HERE = Path(__file__).parent
NOTHING_SEEN = {"alerts": [], "analyses": 0, "losses_seen": 0}


def train_lightning(out: Path, lr: float, mode: str) -> RankRecords:
    """Lightning's own DDP launcher starts the second process (it re-runs the script)."""
    pytest.importorskip("lightning")
    script = HERE / "_lightning_ddp_run.py"
    return run_two_processes([sys.executable, str(script), str(out), str(lr), mode], out)


def train_hf(out: Path, lr: float, mode: str) -> RankRecords:
    """torchrun starts both processes of the Hugging Face Trainer."""
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    script = HERE / "_hf_ddp_run.py"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command = [*launcher, "--nproc_per_node", "2", str(script), str(out), str(lr), mode]
    return run_two_processes(command, out)


def assert_only_rank_zero_monitored(seen: RankRecords, max_steps: int) -> None:
    assert seen[0]["global_step"] == seen[1]["global_step"] == max_steps
    assert seen[0]["losses_seen"] >= max_steps - 1
    assert seen[0]["analyses"] >= 2  # the inline analyses and the final one
    assert seen[1] == {"rank": 1, "global_step": max_steps, **NOTHING_SEEN}


def assert_stopped_together(seen: RankRecords, max_steps: int) -> None:
    assert seen[0]["global_step"] == seen[1]["global_step"] < max_steps
    assert "divergence" in seen[0]["alerts"]
    assert {key: seen[1][key] for key in NOTHING_SEEN} == NOTHING_SEEN


def test_lightning_only_rank_zero_monitors_a_healthy_run(tmp_path: Path) -> None:
    assert_only_rank_zero_monitored(train_lightning(tmp_path, 0.1, "watch"), max_steps=300)
    assert (tmp_path / REPORT_JSON).is_file()


def test_lightning_stop_on_divergence_stops_every_process_at_one_step(tmp_path: Path) -> None:
    assert_stopped_together(train_lightning(tmp_path, 10.0, "stop"), max_steps=300)


def test_hf_only_process_zero_monitors_a_healthy_run(tmp_path: Path) -> None:
    assert_only_rank_zero_monitored(train_hf(tmp_path, 0.1, "watch"), max_steps=200)
    assert (tmp_path / REPORT_JSON).is_file()


def test_hf_stop_on_divergence_stops_every_process_at_one_step(tmp_path: Path) -> None:
    assert_stopped_together(train_hf(tmp_path, 100.0, "stop"), max_steps=200)
