"""scripts/make_digits_sweep.py: a tiny real sweep, read back by load_sweep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dynamics_stats.io.sweep import load_sweep

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_digits_sweep.py"


@pytest.mark.slow
def test_script_trains_runs_that_load_sweep_reads(tmp_path: Path) -> None:
    pytest.importorskip("lightning")
    args = [sys.executable, str(SCRIPT), str(tmp_path), "--n-runs", "2", "--max-steps", "30"]
    completed = subprocess.run(
        [*args, "--val-every", "10"], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    sweep = load_sweep(tmp_path)
    assert [r.run_id for r in sweep.runs] == ["run_00", "run_01"]
    params = dict(sweep.runs[0].params)
    assert set(params) == {
        "lr",
        "hidden",
        "dropout",
        "batch_size",
        "weight_decay",
        "optimizer",
        "tag",
    }
    assert 1e-4 <= params["lr"] <= 1.0 and params["optimizer"] in {"adam", "sgd"}
    metrics = (tmp_path / "run_00" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train_loss", "val_loss", "grad_2.0_norm_total"} <= set(metrics)
