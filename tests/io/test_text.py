"""Tests for the plain-text loader (user regex and generic key/value reader)."""

# printf-style formats on purpose: they are the writers' own C/Python format strings.
# ruff: noqa: UP031

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.text import SPEC

YOLO_REGEX = (
    r"Epoch:(?P<step>\d+)/\d+\s+Learning Rate: (?P<lr>[0-9.eE+-]+)\s+"
    r"Train Loss: (?P<train_loss>[0-9.eE+-]+|nan)\s+Val Loss: (?P<eval_loss>[0-9.eE+-]+|nan)"
)


def _yolo_log(path: Path) -> Path:
    """As Pytorch_YOLOv1 writes it: one line per epoch, fields padded by two spaces."""
    rows = [(1, 0.001, 4.834, 3.255), (2, 0.001, 2.821, 2.431), (3, 0.0001, NAN, 2.194)]
    path.write_text(
        "".join(
            "Epoch:%d/%d  Learning Rate: %.6f  Train Loss: %.3f  Val Loss: %.3f  \n"
            % (e, 80, lr, tl, vl)
            for e, lr, tl, vl in rows
        )
    )
    return path


NAN = float("nan")


def _values(run, metric: str) -> list[tuple[float, object]]:
    rows = run.records[run.records["metric"] == metric]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


def test_generic_reader_on_an_epoch_log(tmp_path: Path) -> None:
    run = SPEC.load(_yolo_log(tmp_path / "log.txt"), LoadOptions())
    assert run.format == "text"
    assert run.step_unit == "epoch"
    assert run.metric_names == ("learning_rate", "train_loss", "val_loss")
    loss = _values(run, "train_loss")
    assert loss[:2] == [(1, 4.834), (2, 2.821)]
    assert loss[2][0] == 3 and math.isnan(loss[2][1])
    assert _values(run, "learning_rate")[2] == (3, 0.0001)
    assert run.records.loc[run.records["metric"] == "val_loss", "line"].tolist() == [1, 2, 3]
    assert run.notes == ()


def test_regex_option(tmp_path: Path) -> None:
    run = SPEC.load(_yolo_log(tmp_path / "log.txt"), LoadOptions(regex=YOLO_REGEX))
    assert run.step_unit == "step"  # the group is named "step"
    assert run.metric_names == ("lr", "train_loss", "eval_loss")
    assert _values(run, "eval_loss") == [(1, 3.255), (2, 2.431), (3, 2.194)]
    assert math.isnan(_values(run, "train_loss")[2][1])


def test_regex_with_epoch_group_and_unmatched_lines(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_text(
        "loading data\n"
        "[epoch 1] loss 0.90 acc 0.50\n"
        "saving checkpoint\r\n"
        "[epoch 2] loss 0.70 acc n/a\r\n"
    )
    regex = r"\[epoch (?P<epoch>\d+)\] loss (?P<loss>\S+) acc (?P<acc>\S+)$"
    run = SPEC.load(path, LoadOptions(regex=regex))
    assert run.step_unit == "epoch"
    assert _values(run, "loss") == [(1, 0.9), (2, 0.7)]
    assert _values(run, "acc") == [(1, 0.5), (2, "n/a")]  # text kept for validation to report
    assert run.records["epoch"].tolist() == [1, 2, 1, 2]
    assert [(n.code, n.level, n.lines) for n in run.notes] == [("ignored_lines", "info", (1, 3))]


def test_regex_without_position_uses_the_match_index(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_text("loss 3.0\nloss 2.5\n")
    run = SPEC.load(path, LoadOptions(regex=r"loss (?P<loss>\S+)"))
    assert run.step_unit == "index"
    assert _values(run, "loss") == [(0, 3.0), (1, 2.5)]


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        (r"Epoch:(\d+", "not a valid regular expression"),
        (r"Epoch:(\d+)", "has no named group"),
        (r"Step (?P<step>\d+)", "matched no line"),
    ],
)
def test_bad_regex_is_an_error(tmp_path: Path, regex: str, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        SPEC.load(_yolo_log(tmp_path / "log.txt"), LoadOptions(regex=regex))


def test_generic_reader_key_equals_value_with_steps(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_text(
        "2024-05-01 10:12:33 INFO starting training\n"
        "epoch 1 | step 100 | loss=0.41 | val_loss=0.52 | lr-Adam=1e-3\n"
        "epoch 1 | step 200 | loss=nan | grad_norm=inf\n"
        "epoch 1 done: val_acc: 0.8\n"
        "Step 300/1000  loss: 0.30  time: 12:30:01\n"
    )
    run = SPEC.load(path, LoadOptions())
    assert run.step_unit == "step"
    assert set(run.metric_names) == {"loss", "val_loss", "lr-adam", "grad_norm", "val_acc"}
    loss = _values(run, "loss")
    assert [s for s, _ in loss] == [100, 200, 300]
    assert math.isnan(loss[1][1]) and loss[2][1] == 0.3
    assert _values(run, "grad_norm") == [(200, math.inf)]
    assert _values(run, "val_acc") == [(200, 0.8)]  # an epoch-only line follows the last step
    assert run.records.loc[run.records["metric"] == "val_acc", "epoch"].tolist() == [1]
    assert [(n.code, n.lines) for n in run.notes] == [("ignored_lines", (1,))]


def test_generic_reader_on_python_dict_lines(tmp_path: Path) -> None:
    path = tmp_path / "stdout.txt"
    path.write_text(
        "{'loss': 0.6931, 'grad_norm': 1.25, 'learning_rate': 5e-05, 'epoch': 0.5}\n"
        "{'loss': 0.5, 'grad_norm': 1.0, 'learning_rate': 4e-05, 'epoch': 1.0}\n"
    )
    run = SPEC.load(path, LoadOptions())
    assert run.step_unit == "epoch"
    assert _values(run, "loss") == [(0.5, 0.6931), (1.0, 0.5)]
    assert "epoch" not in run.metric_names


def test_generic_reader_finds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("nothing to see\nloss: 0.5 but no position\n")
    with pytest.raises(LoadError, match="no line with a position"):
        SPEC.load(path, LoadOptions())


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("  \n")
    with pytest.raises(LoadError, match=r"log\.txt' is empty"):
        SPEC.load(path, LoadOptions())


def test_sniff(tmp_path: Path) -> None:
    assert SPEC.sniff(_yolo_log(tmp_path / "log.txt"))
    csv_file = tmp_path / "metrics.csv"
    csv_file.write_text("epoch,loss,val_loss\n1,0.5,0.6\n2,0.4,0.5\n")
    jsonl = tmp_path / "log.jsonl"
    jsonl.write_text('{"epoch": 1, "loss": 0.5}\n')
    binary = tmp_path / "events.bin"
    binary.write_bytes(b"\x00\x01epoch 1 loss: 0.5\n" * 3)
    prose = tmp_path / "README.txt"
    prose.write_text("Train for 80 epochs.\nThe loss should go down.\nEpoch 3: 0.5\n")
    assert not SPEC.sniff(csv_file)
    assert not SPEC.sniff(jsonl)
    assert not SPEC.sniff(binary)
    assert not SPEC.sniff(prose)
    assert not SPEC.sniff(tmp_path)


def test_load_run_detects_the_format(tmp_path: Path) -> None:
    _yolo_log(tmp_path / "log.txt")
    assert load_run(tmp_path).format == "text"


def test_public_run_with_the_provenance_regex_and_without(public_runs: Path) -> None:
    with (public_runs / "index.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["format"] == "text_regex"]
    assert len(rows) == 1
    run_dir = public_runs / rows[0]["run_id"]
    regex = json.loads((run_dir / "provenance.json").read_text())["parse_options"]["regex"]
    n_train = int(rows[0]["n_train_loss"])
    with_regex = load_run(run_dir, options=LoadOptions(regex=regex))
    assert with_regex.format == "text"
    assert (with_regex.records["metric"] == "train_loss").sum() == n_train
    assert (with_regex.records["metric"] == "eval_loss").sum() == int(rows[0]["n_eval_loss"])
    generic = load_run(run_dir)
    assert generic.format == "text"
    assert generic.step_unit == "epoch"
    assert (generic.records["metric"] == "train_loss").sum() == n_train
    assert (generic.records["metric"] == "val_loss").sum() == int(rows[0]["n_eval_loss"])
    assert generic.records["step"].tolist()[:3] == [1, 1, 1]
