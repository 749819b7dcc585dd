"""Tests of the Keras CSVLogger / history CSV loader (dynamics_stats.io.keras_csv)."""

from __future__ import annotations

import collections
import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LOADERS, load_run
from dynamics_stats.io.keras_csv import SPEC, role_hints


def write_csvlogger(
    path: Path, epochs: list[dict[str, object]], *, separator: str = ",", append: bool = False
) -> None:
    """Write rows exactly as keras.callbacks.CSVLogger (Keras 3) does.

    ``on_train_begin`` opens the file ("a" with append, else "w"); the first
    ``on_epoch_end`` sets ``keys = sorted(logs)`` (adding ``val_<key>`` for each key when
    the first epoch has no validation keys), builds a ``csv.DictWriter`` with fieldnames
    ``["epoch"] + keys`` and an ``excel`` dialect whose delimiter is the separator (rows end
    with ``\\r\\n``), writes the header unless appending to a non-empty file, then writes
    ``{"epoch": epoch, key: logs.get(key, "NA")}`` for each 0-based epoch.
    """
    append_header = True
    if append and path.exists():
        with path.open() as handle:
            append_header = not bool(len(handle.readline()))

    class CustomDialect(csv.excel):
        delimiter = separator

    with path.open("a" if append else "w") as handle:
        keys: list[str] | None = None
        writer = None
        for epoch, logs in enumerate(epochs):
            if keys is None:
                keys = sorted(logs.keys())
                if not any(k.startswith("val_") for k in keys):
                    keys.extend(["val_" + k for k in keys])
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=["epoch", *keys], dialect=CustomDialect)
                if append_header:
                    writer.writeheader()
            row = collections.OrderedDict({"epoch": epoch})
            row.update((key, logs.get(key, "NA")) for key in keys)
            writer.writerow(row)
            handle.flush()


def history(n_epochs: int = 5) -> list[dict[str, object]]:
    return [
        {
            "loss": np.float32(2.0 / (e + 1)).item(),
            "accuracy": 0.5 + 0.05 * e,
            "val_loss": 2.5 / (e + 1),
            "val_accuracy": 0.45 + 0.05 * e,
            "learning_rate": 0.001,
        }
        for e in range(n_epochs)
    ]


def series(run, metric):
    rec = run.records[run.records["metric"] == metric]
    return rec["step"].tolist(), rec["value"].tolist(), rec["line"].tolist()


def test_csvlogger_file_is_detected_and_read(tmp_path):
    path = tmp_path / "training.log"
    write_csvlogger(path, history())
    assert b"\r\n" in path.read_bytes()
    assert path.read_text().splitlines()[0] == (
        "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"
    )
    run = load_run(path)
    assert run.format == "keras_csv"
    assert run.step_unit == "epoch"
    steps, values, lines = series(run, "loss")
    assert steps == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert values == pytest.approx([2.0 / (e + 1) for e in range(5)])
    assert lines == [2, 3, 4, 5, 6]
    assert series(run, "val_loss")[1] == pytest.approx([2.5 / (e + 1) for e in range(5)])
    assert run.records["epoch"].iloc[0] == 0.0
    assert run.role_hints == {
        "loss": "train_loss",
        "val_loss": "val_loss",
        "learning_rate": "learning_rate",
        "accuracy": "train_metric",
        "val_accuracy": "val_metric",
    }
    assert run.files == (str(path),)
    assert run.notes == ()


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_csvlogger_separator_is_sniffed(tmp_path, separator):
    path = tmp_path / "log.csv"
    write_csvlogger(path, history(3), separator=separator)
    run = load_run(path)
    assert run.format == "keras_csv"
    assert series(run, "loss")[1] == pytest.approx([2.0, 1.0, 2.0 / 3])
    assert set(run.metric_names) == {
        "accuracy",
        "learning_rate",
        "loss",
        "val_accuracy",
        "val_loss",
    }


def test_na_written_for_missing_validation_means_not_logged(tmp_path):
    # validation_freq=2: the first epoch has no val_ keys, so CSVLogger adds them and
    # writes "NA" where they are missing.
    epochs = [{"loss": 1.0 / (e + 1)} | ({"val_loss": 0.9} if e % 2 else {}) for e in range(4)]
    path = tmp_path / "log.csv"
    write_csvlogger(path, epochs)
    assert "NA" in path.read_text()
    run = load_run(path)
    assert series(run, "val_loss")[0] == [1.0, 3.0]
    assert series(run, "loss")[0] == [0.0, 1.0, 2.0, 3.0]


def test_nan_and_inf_are_kept(tmp_path):
    epochs = [{"loss": 1.0}, {"loss": float("inf")}, {"loss": float("nan")}]
    path = tmp_path / "log.csv"
    write_csvlogger(path, epochs)
    values = series(load_run(path), "loss")[1]
    assert values[0] == 1.0 and values[1] == math.inf and math.isnan(values[2])


def test_append_twice_keeps_repeated_epochs(tmp_path):
    path = tmp_path / "log.csv"
    write_csvlogger(path, history(3))
    write_csvlogger(path, history(2), append=True)
    assert path.read_text().count("epoch") == 1
    assert series(load_run(path), "loss")[0] == [0.0, 1.0, 2.0, 0.0, 1.0]


def test_pandas_history_with_index_column(tmp_path):
    frame = pd.DataFrame({"loss": [1.0, 0.5, np.nan], "val_loss": [1.2, 0.7, 0.6]})
    path = tmp_path / "history.csv"
    frame.to_csv(path)
    assert path.read_text().startswith(",loss,val_loss")
    run = load_run(path)
    assert run.format == "keras_csv"
    assert run.step_unit == "index"
    steps, values, lines = series(run, "loss")
    assert steps == [0.0, 1.0, 2.0]
    assert values[:2] == [1.0, 0.5] and math.isnan(values[2])  # pandas wrote NaN as ""
    assert lines == [2, 3, 4]
    (note,) = run.notes
    assert note.code == "empty_cells_as_nan" and note.lines == (4,)
    assert "Unnamed: 0" not in run.metric_names


def test_resaved_pandas_history_with_unnamed_index(tmp_path):
    path = tmp_path / "history.csv"
    pd.DataFrame({"Unnamed: 0": [0, 1], "Loss": [1.0, 0.8], "ValLoss": [1.1, 0.9]}).to_csv(
        path, index=False
    )
    run = load_run(path)
    assert run.step_unit == "index"
    assert run.role_hints == {"Loss": "train_loss", "ValLoss": "val_loss"}
    assert set(run.metric_names) == {"Loss", "ValLoss"}


def test_hand_written_history_with_one_based_epoch(tmp_path):
    path = tmp_path / "training_history.csv"
    path.write_text(
        "Epoch,Time,Loss,Train_Acc,Action\n1,1.3m,2.75,0.38,SAVE\n2,2.7m,2.07,0.58,SAVE\n"
    )
    run = load_run(path)
    assert run.format == "keras_csv"
    assert series(run, "Loss")[:2] == ([1.0, 2.0], [2.75, 2.07])
    assert run.role_hints["Loss"] == "train_loss"
    assert set(run.metric_names) == {"Loss", "Train_Acc"}
    (note,) = run.notes
    assert note.code == "text_columns_dropped" and "'Time'" in note.message


def test_history_without_position_uses_row_index(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("val_loss,val_accuracy,loss,accuracy\n0.69,0.5,0.70,0.49\n0.68,0.52,0.69,0.5\n")
    run = load_run(path)
    assert run.step_unit == "index"
    assert series(run, "loss")[0] == [0.0, 1.0]
    assert run.records["epoch"].isna().all()


def test_strings_in_numeric_column_are_kept_as_strings(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,1.0\n1,oops\n2,0.5\n")
    values = series(load_run(path), "loss")[1]
    assert values == [1.0, "oops", 0.5]


def test_empty_file_raises(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("")
    with pytest.raises(LoadError, match=r"log\.csv' is empty"):
        SPEC.load(path, None)


def test_header_only_file_raises(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\r\n")
    with pytest.raises(LoadError, match=r"log\.csv' has a header .* but no data rows"):
        load_run(path)


def test_truncated_last_line_is_skipped_with_a_note(tmp_path):
    path = tmp_path / "log.csv"
    write_csvlogger(path, history(3))
    text = path.read_text()
    path.write_text(text + "3,0.6,0.001")  # being written: no end of line, values missing
    run = load_run(path)
    assert series(run, "loss")[0] == [0.0, 1.0, 2.0]
    (note,) = run.notes
    assert note.code == "truncated_line" and note.level == "repaired"
    assert note.lines == (5,) and "line (5)" in note.message


def test_line_with_extra_values_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,1.0\n1,0.9,7,8\n2,0.8\n")
    run = load_run(path)
    assert series(run, "loss") == ([0.0, 2.0], [1.0, 0.8], [2, 4])
    (note,) = run.notes
    assert note.level == "warning" and note.lines == (3,)


def test_role_hints_pair_val_prefixed_metrics():
    hints = role_hints(["epoch", "auc", "val_auc", "lr", "out_loss", "val_out_loss", "recall"])
    assert hints == {"auc": "train_metric", "val_auc": "val_metric", "lr": "learning_rate"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("metrics.csv", "lr-Adam,step,train_loss,epoch\n,49,0.5,0\n"),
        ("results.csv", "epoch,train/box_loss,metrics/mAP50(B),lr/pg0\n1,1.0,0.1,0.01\n"),
        ("log.txt", '{"train_loss": 1.0, "epoch": 0}\n'),
        (
            "log.txt",
            "Epoch 1, train loss 0.5, val loss 0.6\nEpoch 2, train loss 0.4, val loss 0.5\n",
        ),
        ("scores.csv", "epoch,accuracy\n0,0.5\n"),
        ("trainer_state.json", '{"log_history": [{"loss": 1.0}]}'),
    ],
)
def test_sniff_refuses_other_formats(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert SPEC.sniff(path) is False


def test_sniff_refuses_folders_binary_and_missing_files(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"loss,val_loss\x00\x01\x02")
    assert SPEC.sniff(tmp_path) is False
    assert SPEC.sniff(tmp_path / "bin.csv") is False
    assert SPEC.sniff(tmp_path / "missing.csv") is False


def test_registered():
    assert LOADERS["keras_csv"] is SPEC


def _runs_of(public_runs: Path, fmt: str) -> list[Path]:
    index = pd.read_csv(public_runs / "index.csv")
    return [public_runs / r for r in index.loc[index["format"] == fmt, "run_id"]]


def _has_train_loss(run) -> bool:
    named = {"loss", "train_loss", "train/loss"}
    return "train_loss" in run.role_hints.values() or any(
        m.lower() in named for m in run.metric_names
    )


def test_every_public_keras_run_loads(public_runs):
    runs = _runs_of(public_runs, "keras_csv")
    assert len(runs) == 13
    for run_dir in runs:
        assert json.loads((run_dir / "provenance.json").read_text())["format"] == "keras_csv"
        run = load_run(run_dir)
        assert run.format == "keras_csv", run_dir.name
        assert len(run.records) > 0 and run.step_unit in ("epoch", "index")
        assert _has_train_loss(run), run_dir.name
        assert not any(n.level in ("warning", "fatal") for n in run.notes), run_dir.name
