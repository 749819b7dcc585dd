"""Tests for the LLaMA-Factory ``trainer_log.jsonl`` loader."""

from __future__ import annotations

import csv
import datetime
import json
import math
from pathlib import Path

import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.llamafactory import SPEC, parse_duration


def _log_line(step: int, total: int, elapsed: float, *, keep_null: bool, **metrics: object) -> str:
    """One line as `LogCallback._write_log` writes it: ``json.dumps(logs) + "\\n"``."""
    logs = {
        "current_steps": step,
        "total_steps": total,
        "loss": metrics.get("loss"),
        "eval_loss": metrics.get("eval_loss"),
        "predict_loss": None,
        "reward": None,
        "lr": metrics.get("lr"),
        "epoch": metrics.get("epoch"),
        "percentage": round(step / total * 100, 2),
        "elapsed_time": str(datetime.timedelta(seconds=int(elapsed))),
        "remaining_time": str(datetime.timedelta(seconds=int(elapsed * (total - step) / step))),
    }
    if not keep_null:  # newer versions: logs = {k: v for k, v in logs.items() if v}
        logs = {k: v for k, v in logs.items() if v}
    return json.dumps(logs) + "\n"


def _write(path: Path, *, keep_null: bool = False) -> Path:
    lines = [
        _log_line(10, 40, 32.7, keep_null=keep_null, loss=2.219, lr=1.0e-05, epoch=0.25),
        _log_line(20, 40, 65.1, keep_null=keep_null, loss=math.nan, lr=2.0e-05, epoch=0.5),
        _log_line(20, 40, 70.0, keep_null=keep_null, eval_loss=1.641, epoch=0.5),
        _log_line(30, 40, 90061.0, keep_null=keep_null, loss=1.8827, lr=1.5e-05, epoch=0.75),
        _log_line(40, 40, 90100.0, keep_null=keep_null, epoch=1.0),
    ]
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize("keep_null", [False, True])
def test_reads_metrics_steps_and_wall_time(tmp_path: Path, keep_null: bool) -> None:
    run = SPEC.load(_write(tmp_path / "trainer_log.jsonl", keep_null=keep_null), LoadOptions())
    rec = run.records
    assert run.format == "llamafactory"
    assert run.step_unit == "step"
    assert set(run.metric_names) == {"loss", "lr", "eval_loss"}
    loss = rec[rec["metric"] == "loss"]
    assert loss["step"].tolist() == [10, 20, 30]
    assert loss["value"].iloc[0] == 2.219 and math.isnan(loss["value"].iloc[1])
    assert loss["line"].tolist() == [1, 2, 4]
    assert loss["wall_time"].tolist() == [32.0, 65.0, 86400 + 3600 + 61.0]  # "1 day, 1:01:01"
    assert loss["epoch"].tolist() == [0.25, 0.5, 0.75]
    ev = rec[rec["metric"] == "eval_loss"]
    assert ev[["step", "value", "line"]].values.tolist() == [[20, 1.641, 3]]
    assert run.hparams == {"total_steps": 40}
    assert run.role_hints == {"loss": "train_loss", "eval_loss": "val_loss", "lr": "learning_rate"}


def test_progress_fields_are_not_metrics(tmp_path: Path) -> None:
    run = SPEC.load(_write(tmp_path / "trainer_log.jsonl", keep_null=True), LoadOptions())
    for name in ("total_steps", "percentage", "elapsed_time", "remaining_time", "current_steps"):
        assert name not in run.metric_names
    assert run.notes == ()


def test_learning_rate_key_of_older_versions(tmp_path: Path) -> None:
    path = tmp_path / "trainer_log.jsonl"
    row = {"current_steps": 5, "total_steps": 10, "loss": 1.7, "learning_rate": 4.9e-05,
           "epoch": 0.0, "percentage": 50.0, "elapsed_time": "0:03:29",
           "remaining_time": "4 days, 5:06:09"}  # fmt: skip
    path.write_text(json.dumps(row) + "\n")
    run = SPEC.load(path, LoadOptions())
    assert run.role_hints["learning_rate"] == "learning_rate"
    assert run.records["wall_time"].tolist() == [209.0, 209.0]


def test_parse_duration() -> None:
    assert parse_duration("0:00:32") == 32.0
    assert parse_duration("4 days, 7:19:52") == 4 * 86400 + 7 * 3600 + 19 * 60 + 52
    assert parse_duration("1 day, 0:08:23") == 86400 + 503
    assert math.isnan(parse_duration("soon"))
    assert math.isnan(parse_duration(None))


def test_truncated_last_line_is_skipped_and_noted(tmp_path: Path) -> None:
    path = _write(tmp_path / "trainer_log.jsonl")
    path.write_text(path.read_text() + '{"current_steps": 50, "total_steps": 40, "lo')
    run = SPEC.load(path, LoadOptions())
    assert [(n.code, n.level, n.lines) for n in run.notes] == [
        ("truncated_last_line", "repaired", (6,))
    ]
    assert run.records["step"].max() == 30


def test_bad_middle_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "trainer_log.jsonl")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:2], "Traceback (most recent call last):\n", *lines[2:]]))
    run = SPEC.load(path, LoadOptions())
    assert [(n.code, n.level, n.lines) for n in run.notes] == [
        ("unparseable_lines", "warning", (3,))
    ]
    assert run.records.loc[run.records["metric"] == "eval_loss", "line"].tolist() == [4]


def test_sniff(tmp_path: Path) -> None:
    path = _write(tmp_path / "trainer_log.jsonl")
    renamed = tmp_path / "progress.jsonl"
    renamed.write_text(path.read_text())
    other = tmp_path / "log.txt"
    other.write_text('{"train_loss": 0.5, "epoch": 0}\n')
    assert SPEC.sniff(path)
    assert SPEC.sniff(renamed)
    assert not SPEC.sniff(other)
    assert not SPEC.sniff(tmp_path)


def test_load_run_detects_the_format(tmp_path: Path) -> None:
    path = _write(tmp_path / "progress.jsonl")
    assert load_run(path).format == "llamafactory"


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "trainer_log.jsonl"
    path.write_text("\n")
    with pytest.raises(LoadError, match=r"trainer_log\.jsonl' is empty"):
        SPEC.load(path, LoadOptions())


def test_public_runs_load_through_detection(public_runs: Path) -> None:
    with (public_runs / "index.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["format"] == "llamafactory_jsonl"]
    assert len(rows) == 3
    for row in rows:
        run = load_run(public_runs / row["run_id"])
        assert run.format == "llamafactory", row["run_id"]
        counts = run.records["metric"].value_counts()
        assert counts.get("loss", 0) == int(row["n_train_loss"]), row["run_id"]
        assert counts.get("eval_loss", 0) == int(row["n_eval_loss"]), row["run_id"]
        assert run.records["wall_time"].notna().all(), row["run_id"]
        assert run.hparams["total_steps"] > 0
