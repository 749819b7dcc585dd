"""Tests for the JSON-lines loader (DeiT/MAE/DETR ``log.txt`` and ``*.jsonl`` logs)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.jsonlines import SPEC


def _deit_log(path: Path, n_epochs: int = 3) -> Path:
    """A DeiT ``log.txt``: ``f.write(json.dumps(log_stats) + "\\n")`` once per epoch."""
    with path.open("a") as f:
        for epoch in range(n_epochs):
            train_stats = {"lr": 0.0005, "loss": 5.45 - epoch}
            test_stats = {"loss": 5.46 - epoch / 2, "acc1": 1.5 + epoch, "acc5": 3.2 + epoch}
            log_stats = {
                **{f"train_{k}": v for k, v in train_stats.items()},
                **{f"test_{k}": v for k, v in test_stats.items()},
                "epoch": epoch,
                "n_parameters": 246000,
            }
            f.write(json.dumps(log_stats) + "\n")
    return path


def _values(run, metric: str) -> list[tuple[float, object]]:
    rows = run.records[run.records["metric"] == metric]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


def test_epoch_log(tmp_path: Path) -> None:
    run = SPEC.load(_deit_log(tmp_path / "log.txt"), LoadOptions())
    assert run.format == "jsonlines"
    assert run.step_unit == "epoch"
    assert run.metric_names == ("train_lr", "train_loss", "test_loss", "test_acc1", "test_acc5")
    assert _values(run, "train_loss") == [(0, 5.45), (1, 4.45), (2, 3.45)]
    rows = run.records[run.records["metric"] == "test_loss"]
    assert rows["epoch"].tolist() == [0, 1, 2]
    assert rows["line"].tolist() == [1, 2, 3]
    assert run.hparams == {"n_parameters": 246000}
    assert run.role_hints == {"test_loss": "val_loss", "train_lr": "learning_rate"}


def test_step_key_log_with_nested_values_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    rows = [
        {"step": 100, "train": {"loss": 2.5, "grad_norm": 1.25}, "lr": 3e-4, "boxes": [1, 2]},
        {"step": 200, "train": {"loss": float("nan"), "grad_norm": float("inf")}, "lr": 3e-4},
        {"step": 300, "val": {"loss": 2.0}, "note": "checkpoint saved"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))  # NaN / Infinity tokens
    run = SPEC.load(path, LoadOptions())
    assert run.step_unit == "step"
    assert set(run.metric_names) == {"train/loss", "train/grad_norm", "lr", "val/loss"}
    loss = _values(run, "train/loss")
    assert loss[0] == (100, 2.5) and loss[1][0] == 200 and math.isnan(loss[1][1])
    assert _values(run, "train/grad_norm")[1] == (200, math.inf)
    assert _values(run, "val/loss") == [(300, 2.0)]
    assert run.role_hints == {}
    codes = {n.code: n for n in run.notes}
    assert "boxes" in codes["ignored_list_fields"].message
    assert "note" in codes["ignored_text_fields"].message


def test_text_in_a_numeric_field_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    rows = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": "diverged"}, {"step": 3, "loss": 0.5}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = SPEC.load(path, LoadOptions())
    assert _values(run, "loss") == [(1, 1.0), (2, "diverged"), (3, 0.5)]


def test_no_position_gives_the_line_index(tmp_path: Path) -> None:
    path = tmp_path / "losses.jsonl"
    path.write_text('{"loss": 3.0}\n\n{"loss": 2.0}\n')
    run = SPEC.load(path, LoadOptions())
    assert run.step_unit == "index"
    assert _values(run, "loss") == [(0, 3.0), (1, 2.0)]
    assert run.records["line"].tolist() == [1, 3]


def test_step_column_option(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"batch_idx": 7, "loss": 3.0}\n{"batch_idx": 8, "loss": 2.0}\n')
    run = SPEC.load(path, LoadOptions(step_column="batch_idx"))
    assert _values(run, "loss") == [(7, 3.0), (8, 2.0)]
    with pytest.raises(LoadError, match="step_column 'iteration' is not a field"):
        SPEC.load(path, LoadOptions(step_column="iteration"))


def test_changing_parameter_count_stays_a_metric(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"epoch": 0, "n_params": 10}\n{"epoch": 1, "n_params": 12}\n')
    run = SPEC.load(path, LoadOptions())
    assert run.hparams == {}
    assert _values(run, "n_params") == [(0, 10), (1, 12)]


def test_truncated_last_line_is_skipped_and_noted(tmp_path: Path) -> None:
    path = _deit_log(tmp_path / "log.txt")
    path.write_text(path.read_text() + '{"train_lr": 0.0005, "train_loss": 2.4')
    run = SPEC.load(path, LoadOptions())
    assert [(n.code, n.level, n.lines) for n in run.notes] == [
        ("truncated_last_line", "repaired", (4,))
    ]
    assert "line 4" in run.notes[0].message
    assert len(_values(run, "train_loss")) == 3


def test_bad_middle_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = _deit_log(tmp_path / "log.txt")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([lines[0], "epoch 1 done\n", *lines[1:]]))
    run = SPEC.load(path, LoadOptions())
    assert [(n.code, n.level, n.lines) for n in run.notes] == [
        ("unparseable_lines", "warning", (2,))
    ]
    assert run.records.loc[run.records["metric"] == "train_loss", "line"].tolist() == [1, 3, 4]


def test_only_bad_lines_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("hello\nworld\n")
    with pytest.raises(LoadError, match="no JSON object on any line"):
        SPEC.load(path, LoadOptions())


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("")
    with pytest.raises(LoadError, match=r"log\.txt' is empty"):
        SPEC.load(path, LoadOptions())


def test_sniff(tmp_path: Path) -> None:
    log = _deit_log(tmp_path / "log.txt")
    single_json = tmp_path / "config.json"
    single_json.write_text(json.dumps({"lr": 0.1, "depth": 12}))
    pretty = tmp_path / "trainer_state.json"
    pretty.write_text(json.dumps({"log_history": []}, indent=2))
    text = tmp_path / "train.log"
    text.write_text("Epoch 1 loss: 0.5\n")
    no_numbers = tmp_path / "events.jsonl"
    no_numbers.write_text('{"event": "start"}\n')
    assert SPEC.sniff(log)
    assert not SPEC.sniff(single_json)
    assert not SPEC.sniff(pretty)
    assert not SPEC.sniff(text)
    assert not SPEC.sniff(no_numbers)
    assert not SPEC.sniff(tmp_path)


def test_load_run_detects_the_format(tmp_path: Path) -> None:
    _deit_log(tmp_path / "log.txt")
    assert load_run(tmp_path).format == "jsonlines"


def test_public_runs_load_through_detection(public_runs: Path) -> None:
    with (public_runs / "index.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["format"] == "jsonlines_log"]
    assert len(rows) == 4
    for row in rows:
        run = load_run(public_runs / row["run_id"])
        assert run.format == "jsonlines", row["run_id"]
        assert run.step_unit == "epoch", row["run_id"]
        counts = run.records["metric"].value_counts()
        assert counts.get("train_loss", 0) == int(row["n_train_loss"]), row["run_id"]
        assert counts.get("test_loss", 0) == int(row["n_eval_loss"]), row["run_id"]
        assert "n_parameters" not in run.metric_names, row["run_id"]
