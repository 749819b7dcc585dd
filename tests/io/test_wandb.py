"""W&B loaders: offline runs written by the real wandb, and history exports as W&B writes them."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.wandb import EXPORT_SPEC, SPEC

CONFIG = {"lr": 1e-3, "model": {"depth": 4, "act": "relu"}, "use_bn": True, "layers": [64, 32]}
HPARAMS = {
    "lr": 1e-3,
    "model.depth": 4,
    "model.act": "relu",
    "use_bn": True,
    "layers": "[64, 32]",
    "batch_size": 32,
    "comment": "x" * 70_000,  # a record longer than two 32 KiB blocks of the log
}
TRAIN_LOSS = [2.5, 1.75, float("nan"), float("inf"), 0.5]


@dataclass(frozen=True)
class Runs:
    wandb_dir: Path
    first: Path  # run folder of the main run
    second: Path  # a later, HF-style run (train/global_step, no explicit step)
    started: float
    ended: float


def _offline_env(mp: pytest.MonkeyPatch, home: Path) -> None:
    for name, value in {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DISABLE_CODE": "true",
        "WANDB_CONSOLE": "off",
        "WANDB_X_DISABLE_STATS": "true",
        "WANDB_X_DISABLE_MACHINE_INFO": "true",
        "WANDB_CONFIG_DIR": str(home / "config"),
        "WANDB_CACHE_DIR": str(home / "cache"),
        "WANDB_DATA_DIR": str(home / "data"),
    }.items():
        mp.setenv(name, value)
    mp.delenv("WANDB_API_KEY", raising=False)
    mp.delenv("WANDB_BASE_URL", raising=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    wandb = pytest.importorskip("wandb")
    root = tmp_path_factory.mktemp("wandb_runs")
    with pytest.MonkeyPatch.context() as mp:
        _offline_env(mp, root / "home")
        mp.chdir(root)
        started = time.time()
        run = wandb.init(mode="offline", dir=root, project="tiny", name="tiny-a", config=CONFIG)
        wandb.config.update({"batch_size": 32, "comment": "x" * 70_000})
        for step, value in enumerate(TRAIN_LOSS):
            wandb.log({"train/loss": value, "lr": 0.1 / (step + 1)}, step=step)
        wandb.log(
            {"val/loss": 1.5, "extra": {"b": 1.25}, "hist": wandb.Histogram([1, 2, 3])}, step=5
        )
        wandb.log({"val/loss": float("nan"), "note": "diverged"}, step=6)
        first = Path(run.dir).parent
        wandb.finish()
        ended = time.time()
        time.sleep(1.1)  # run folders are named by the second they started
        run = wandb.init(mode="offline", dir=root, project="tiny", name="tiny-b")
        for global_step, value in ((10, 0.9), (20, 0.8)):
            wandb.log({"train/loss": value, "train/global_step": global_step, "train/epoch": 0.5})
        second = Path(run.dir).parent
        wandb.finish()
        wandb.teardown()
    return Runs(root / "wandb", first, second, started, ended)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if not p.is_symlink()
    }


def _metric(run: RunLog, name: str) -> pd.DataFrame:
    return run.records[run.records["metric"] == name]


def _check_first(run: RunLog, runs: Runs) -> None:
    assert run.format == "wandb" and run.step_unit == "step"
    loss = _metric(run, "train/loss")
    np.testing.assert_array_equal(loss["step"], [0, 1, 2, 3, 4])
    values = loss["value"].to_numpy(dtype=float)
    np.testing.assert_array_equal(values[[0, 1, 4]], [2.5, 1.75, 0.5])
    assert math.isnan(values[2]) and values[3] == math.inf  # divergence evidence is kept
    assert loss["wall_time"].between(runs.started - 1, runs.ended + 1).all()
    lines = loss["line"].tolist()
    assert lines == sorted(lines) and lines[0] > 1  # record numbers in the .wandb log
    val = _metric(run, "val/loss")
    assert val["step"].tolist() == [5, 6]
    assert val["value"].iloc[0] == 1.5 and math.isnan(val["value"].iloc[1])
    assert _metric(run, "extra.b")["value"].tolist() == [1.25]
    assert _metric(run, "note")["value"].tolist() == ["diverged"]
    assert not {"_step", "_runtime", "_timestamp"} & set(run.metric_names)
    assert not any(name.startswith("hist") for name in run.metric_names)
    assert any(n.code == "wandb_non_scalar" and "hist" in n.message for n in run.notes)
    assert dict(run.hparams) == HPARAMS


@pytest.mark.slow
def test_run_folder_is_detected_and_read(runs: Runs) -> None:
    before = _snapshot(runs.wandb_dir)
    run = load_run(runs.first)
    _check_first(run, runs)
    assert run.files == (str(next(runs.first.glob("run-*.wandb"))),)
    assert any("tiny-a" in n.message for n in run.notes)
    assert _snapshot(runs.wandb_dir) == before


@pytest.mark.slow
def test_wandb_file_is_read(runs: Runs) -> None:
    log = next(runs.first.glob("run-*.wandb"))
    _check_first(load_run(log), runs)


@pytest.mark.slow
def test_wandb_folder_reads_the_latest_run(runs: Runs) -> None:
    run = load_run(runs.wandb_dir)
    assert run.format == "wandb"
    notes = [n for n in run.notes if n.code == "wandb_latest_run"]
    assert len(notes) == 1 and runs.second.name in notes[0].message
    assert runs.first.name in notes[0].message
    loss = _metric(run, "train/loss")
    assert loss["step"].tolist() == [10, 20]  # train/global_step, not W&B's call counter
    assert loss["epoch"].tolist() == [0.5, 0.5]
    assert any(n.code == "wandb_step" for n in run.notes)
    assert set(run.metric_names) == {"train/loss"}


@pytest.mark.slow
def test_truncated_log_keeps_complete_records(runs: Runs, tmp_path: Path) -> None:
    log = next(runs.first.glob("run-*.wandb"))
    data = log.read_bytes()
    cut = tmp_path / log.name
    cut.write_bytes(data[: len(data) - 40])
    run = SPEC.load(cut, LoadOptions())
    assert [n.level for n in run.notes if n.code == "wandb_truncated"] == ["repaired"]
    assert len(_metric(run, "train/loss")) == 5


@pytest.mark.slow
def test_corrupt_log_stops_with_a_warning(runs: Runs, tmp_path: Path) -> None:
    log = next(runs.first.glob("run-*.wandb"))
    data = bytearray(log.read_bytes())
    data[len(data) - 100] ^= 0xFF  # in the closing records, after every wandb.log
    bad = tmp_path / log.name
    bad.write_bytes(bytes(data))
    run = SPEC.load(bad, LoadOptions())
    assert [n.level for n in run.notes if n.code == "wandb_corrupt"] == ["warning"]
    assert len(_metric(run, "train/loss")) == 5


def test_empty_and_foreign_logs_are_errors(tmp_path: Path) -> None:
    (tmp_path / "run-a.wandb").write_bytes(b"")
    with pytest.raises(LoadError, match="is empty"):
        SPEC.load(tmp_path / "run-a.wandb", LoadOptions())
    (tmp_path / "run-b.wandb").write_bytes(b"not a wandb log at all")
    with pytest.raises(LoadError, match="not a W&B run log"):
        SPEC.load(tmp_path / "run-b.wandb", LoadOptions())


def test_folder_without_runs_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="holds no W&B run"):
        SPEC.load(tmp_path, LoadOptions())


@pytest.mark.slow
def test_sniff_recognises_runs_without_importing_wandb(runs: Runs, tmp_path: Path) -> None:
    (tmp_path / "log.wandb").write_text("text")
    (tmp_path / "metrics.csv").write_text("step,loss\n0,1.0\n")
    paths = [
        runs.wandb_dir,
        runs.first,
        next(runs.first.glob("run-*.wandb")),
        tmp_path,
        tmp_path / "log.wandb",
        tmp_path / "metrics.csv",
    ]
    script = (
        "import sys; from pathlib import Path; from dynamics_stats.io.wandb import _sniff; "
        f"print([_sniff(Path(p)) for p in {[str(p) for p in paths]!r}], 'wandb' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[True, True, True, False, False, False] False"


# --- exports --------------------------------------------------------------------------------


def _history_frame() -> pd.DataFrame:
    """What ``run.history()`` returns: W&B's columns, one row per logged step."""
    return pd.DataFrame(
        {
            "_step": [0, 1, 2, 3],
            "_runtime": [0.5, 1.0, 1.5, 2.0],
            "_timestamp": [1.7e9, 1.7e9 + 1, 1.7e9 + 2, 1.7e9 + 3],
            "train/loss": [2.0, 1.5, math.inf, 1.0],
            "eval/loss": [np.nan, 1.8, np.nan, 1.6],
        }
    )


@pytest.mark.parametrize("index", [True, False])
def test_history_csv_export(tmp_path: Path, index: bool) -> None:
    path = tmp_path / "history.csv"
    _history_frame().to_csv(path, index=index)
    assert EXPORT_SPEC.sniff(path)
    run = load_run(path)
    assert run.format == "wandb_export"
    assert set(run.metric_names) == {"train/loss", "eval/loss"}
    loss = _metric(run, "train/loss")
    assert loss["step"].tolist() == [0, 1, 2, 3]
    assert loss["value"].tolist() == [2.0, 1.5, math.inf, 1.0]
    assert loss["wall_time"].tolist() == [1.7e9, 1.7e9 + 1, 1.7e9 + 2, 1.7e9 + 3]
    assert loss["line"].tolist() == [2, 3, 4, 5]
    evals = _metric(run, "eval/loss")
    assert evals["step"].tolist() == [1, 3] and evals["line"].tolist() == [3, 5]


def test_csv_keeps_text_and_nan_text(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("_step,_runtime,loss\n0,0.1,1.0\n1,0.2,nan\n2,0.3,oops\n3,0.4,\n")
    loss = _metric(EXPORT_SPEC.load(path, LoadOptions()), "loss")
    assert loss["step"].tolist() == [0, 1, 2]
    assert loss["value"].iloc[0] == 1.0 and math.isnan(loss["value"].iloc[1])
    assert loss["value"].iloc[2] == "oops"


def _chart_csv(path: Path, run_names: list[str]) -> None:
    """A line chart exported from the W&B web UI (CSV button of the panel)."""
    table = pd.DataFrame({"Step": [0, 10, 20]})
    for name in run_names:
        table[f"{name} - train/loss"] = [2.0, 1.0, 0.5]
        table[f"{name} - train/loss__MIN"] = [1.9, 0.9, 0.4]
        table[f"{name} - train/loss__MAX"] = [2.1, 1.1, 0.6]
    table.to_csv(path, index=False)


def test_chart_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "chart.csv"
    _chart_csv(path, ["tiny-a"])
    assert EXPORT_SPEC.sniff(path)
    run = load_run(path)
    assert run.format == "wandb_export" and run.metric_names == ("train/loss",)
    loss = _metric(run, "train/loss")
    assert loss["step"].tolist() == [0, 10, 20] and loss["value"].tolist() == [2.0, 1.0, 0.5]


def test_chart_csv_with_several_runs_lists_them(tmp_path: Path) -> None:
    path = tmp_path / "chart.csv"
    _chart_csv(path, ["tiny-a", "tiny-b"])
    with pytest.raises(LoadError, match="holding 2 runs \\(tiny-a, tiny-b\\)"):
        load_run(path)


def test_json_list_export(tmp_path: Path) -> None:
    rows = _history_frame().to_dict(orient="records")  # run.history(pandas=False)
    rows = [{k: v for k, v in row.items() if not (k == "eval/loss" and v != v)} for row in rows]
    rows[1]["media"] = {"_type": "image-file", "path": "media/a.png"}
    path = tmp_path / "history.json"
    path.write_text(json.dumps(rows))
    assert EXPORT_SPEC.sniff(path)
    run = load_run(path)
    assert run.format == "wandb_export"
    assert _metric(run, "train/loss")["value"].tolist() == [2.0, 1.5, math.inf, 1.0]
    assert _metric(run, "eval/loss")["line"].tolist() == [2, 4]
    assert any(n.code == "wandb_non_scalar" and "media" in n.message for n in run.notes)


def test_json_lines_export_with_cut_last_line(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    text = _history_frame().to_json(orient="records", lines=True)
    path.write_text(text.rstrip("\n") + '\n{"_step": 4, "_runtime": 2.5, "train/lo')
    run = EXPORT_SPEC.load(path, LoadOptions())
    loss = _metric(run, "train/loss")
    # pandas writes inf as null: that value is lost in this export, the rest is there
    assert loss["step"].tolist() == [0, 1, 3] and loss["line"].tolist() == [1, 2, 4]
    assert [(n.level, n.lines) for n in run.notes if n.code == "wandb_bad_line"] == [
        ("repaired", (5,))
    ]


def test_export_sniff_is_specific(tmp_path: Path) -> None:
    (tmp_path / "plain.csv").write_text("step,loss,val_loss\n0,1.0,2.0\n")
    (tmp_path / "runtime_only.csv").write_text("_runtime,loss\n0,1.0\n")
    (tmp_path / "dash.csv").write_text("epoch,a - b\n0,1\n")
    (tmp_path / "log.jsonl").write_text('{"epoch": 0, "train_loss": 1.0}\n')
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02_step,_runtime")
    for path in tmp_path.iterdir():
        assert not EXPORT_SPEC.sniff(path), path.name


def test_public_runs_are_not_claimed(public_runs: Path) -> None:
    for path in sorted(public_runs.rglob("*")):
        assert not EXPORT_SPEC.sniff(path), path
        assert not SPEC.sniff(path), path


def test_empty_export_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "history.csv").write_text("")
    with pytest.raises(LoadError, match="is empty"):
        EXPORT_SPEC.load(tmp_path / "history.csv", LoadOptions())
