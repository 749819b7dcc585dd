"""Tests of the generic table loaders (dynamics_stats.io.table): CSV/TSV and Parquet."""

from __future__ import annotations

import csv
import math
import sys
import time

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LOADERS, LoadOptions, load_run
from dynamics_stats.io.table import PARQUET_SPEC, SPEC, read_delimited, sniff_header


def series(run, metric):
    rec = run.records[run.records["metric"] == metric]
    return rec["step"].tolist(), rec["value"].tolist(), rec["line"].tolist()


def sparse_export(path, sep=","):
    """A wide, sparse export written with pandas (NaN cells become empty)."""
    frame = pd.DataFrame(
        {
            "timestamp": [1756179661.3, 1756179662.3, 1756179700.0, 1756179701.0],
            "step": [0, 0, 50, 50],
            "train/loss": [np.nan, 9.28, 3.70, np.nan],
            "eval/loss": [np.nan, np.nan, np.nan, 3.9],
            "train/grad_norm_before_clip": [np.nan, 12.5, 1.5, np.nan],
            "train/grad_norm_after_clip": [np.nan, 1.0, 1.0, np.nan],
            "model/total_parameters": [22696448, np.nan, np.nan, np.nan],
        }
    )
    frame.to_csv(path, sep=sep, index=False)
    return frame


def test_wide_sparse_export_is_read_cell_by_cell(tmp_path):
    path = tmp_path / "metrics.csv"
    sparse_export(path)
    run = load_run(path)
    assert run.format == "table" and run.step_unit == "step"
    assert series(run, "train/loss") == ([0.0, 50.0], [9.28, 3.70], [3, 4])
    assert series(run, "eval/loss") == ([50.0], [3.9], [5])
    rec = run.records[run.records["metric"] == "eval/loss"]
    assert rec["wall_time"].tolist() == [1756179701.0]
    assert "timestamp" not in run.metric_names and "step" not in run.metric_names
    assert run.role_hints == {}  # names are left to validation
    assert run.notes == ()


@pytest.mark.parametrize(
    ("sep", "suffix"), [(",", ".csv"), (";", ".csv"), ("\t", ".tsv"), ("|", ".txt")]
)
def test_delimiters(tmp_path, sep, suffix):
    path = tmp_path / f"metrics{suffix}"
    sparse_export(path, sep=sep)
    run = load_run(path)
    assert run.format == "table"
    assert series(run, "train/loss")[1] == [9.28, 3.70]


def test_decimal_comma_with_semicolons(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("iteration;loss;acc\n1;0,5;0,25\n2;0,4;0,5\n")
    run = load_run(path)
    assert series(run, "loss")[:2] == ([1.0, 2.0], [0.5, 0.4])


def test_step_column_option(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("optimizer_steps,loss\n10,1.0\n20,0.5\n")
    run = load_run(path, options=LoadOptions(step_column="optimizer_steps"))
    assert run.step_unit == "step"
    assert series(run, "loss")[0] == [10.0, 20.0]
    with pytest.raises(LoadError, match=r"step column 'steps' is not in .*optimizer_steps"):
        load_run(path, format="table", options=LoadOptions(step_column="steps"))


def test_epoch_then_row_index_as_position(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("epoch,acc\n1,0.5\n2,0.6\n")
    run = load_run(path)
    assert run.step_unit == "epoch" and series(run, "acc")[0] == [1.0, 2.0]
    path.write_text("acc,f1\n0.5,0.4\n0.6,0.5\n")
    run = load_run(path)
    assert run.step_unit == "index" and series(run, "acc")[0] == [0.0, 1.0]


def test_text_columns_dropped_junk_kept(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(
        "step,run,created,loss,acc\n"
        "1,baseline,2024-05-01T10:00:00,1.0,0.5\n"
        "2,baseline,2024-05-01T10:00:30,#DIV/0!,0.6\n"
        "3,baseline,2024-05-01T10:01:00,nan,inf\n"
    )
    run = load_run(path)
    assert set(run.metric_names) == {"loss", "acc"}
    values = series(run, "loss")[1]
    assert values[:2] == [1.0, "#DIV/0!"] and math.isnan(values[2])
    assert series(run, "acc")[1] == [0.5, 0.6, math.inf]
    (note,) = run.notes
    assert note.code == "text_columns_dropped" and "'run'" in note.message
    assert "'created'" in note.message


def test_iso_timestamps_become_wall_time(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,timestamp,loss\n1,2024-05-01T10:00:00Z,1.0\n2,2024-05-01T10:00:30Z,0.9\n")
    rec = load_run(path).records
    assert np.diff(rec["wall_time"].to_numpy()).tolist() == [30.0]


def test_quoted_names_and_cells(tmp_path):
    path = tmp_path / "metrics.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss, smoothed", 'say "hi"'])
        writer.writerow([1, 0.5, "a,b"])
        writer.writerow([2, 0.4, 3])
    run = load_run(path)
    assert series(run, "loss, smoothed")[1] == [0.5, 0.4]
    assert series(run, 'say "hi"')[1] == ["a,b", 3.0]


def test_broken_lines(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n1,1.0\n\n2,0.9,5\n3,0.8\n4,0.")
    run = load_run(path)
    assert series(run, "loss") == ([1.0, 3.0, 4.0], [1.0, 0.8, 0.0], [2, 5, 6])
    (note,) = run.notes
    assert note.code == "malformed_lines" and note.level == "warning" and note.lines == (4,)
    # "4,0." has all its fields: kept (a cut number cannot be told from a short one)
    path.write_text("step,loss,acc\n1,1.0,0.5\n2,0.9")
    run = load_run(path)
    (note,) = run.notes
    assert note.code == "truncated_line" and note.lines == (3,)
    assert series(run, "loss")[0] == [1.0]


def test_trailing_delimiters_are_harmless(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n1,1.0,\n2,0.9,\n")
    run = load_run(path)
    assert series(run, "loss")[:2] == ([1.0, 2.0], [1.0, 0.9])
    assert run.notes == ()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("  \n\n", "is empty"),
        ("step,loss\n", "has a header .* but no data rows"),
        ("step,run\n1,a\n", "no numeric metric column"),
        ("just some words\n", "is not a delimited header"),
    ],
)
def test_unusable_files_raise(tmp_path, text, match):
    path = tmp_path / "metrics.csv"
    path.write_text(text)
    with pytest.raises(LoadError, match=match) as info:
        SPEC.load(path, LoadOptions())
    assert "metrics.csv" in str(info.value)


def test_folder_and_binary_raise(tmp_path):
    with pytest.raises(LoadError, match="is a folder"):
        SPEC.load(tmp_path, LoadOptions())
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n\x00\x01")
    with pytest.raises(LoadError, match="binary"):
        SPEC.load(path, LoadOptions())


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("m.csv", "step,loss\n", True),
        ("m.tsv", "step\tloss\n1\t0.5\n", True),
        ("m.txt", "step|loss\n1|0.5\n", True),
        ("log.txt", "Epoch 1, loss 0.5, acc 0.9\nEpoch 2, loss 0.4, acc 0.9\n", False),
        ("log.txt", '{"loss": 1.0, "epoch": 0}\n', False),
        ("m.json", "step,loss\n1,0.5\n", False),
        ("m.csv", "onecolumn\n1\n", False),
        ("m.csv", "1,2,3\n4,5,6\n", False),
    ],
)
def test_sniff(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    assert SPEC.sniff(path) is expected


def test_sniff_never_raises(tmp_path):
    assert SPEC.sniff(tmp_path) is False
    assert SPEC.sniff(tmp_path / "missing.csv") is False
    (tmp_path / "b.csv").write_bytes(bytes(range(256)))
    assert SPEC.sniff(tmp_path / "b.csv") is False
    assert sniff_header(tmp_path / "b.csv") is None


def test_read_delimited_keeps_lines_of_rows(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\nstep,loss\r\n1,0.5\r\n\r\n2,0.4\r\n")
    table = read_delimited(path)
    assert list(table.frame.columns) == ["step", "loss"]
    assert table.lines.tolist() == [3, 4, 5]


def test_large_table_is_fast(tmp_path, rng):
    n = 100_000
    path = tmp_path / "big.csv"
    pd.DataFrame(
        {"step": np.arange(n), "loss": rng.random(n), "lr": rng.random(n), "gn": rng.random(n)}
    ).to_csv(path, index=False)
    start = time.perf_counter()
    run = load_run(path)
    assert time.perf_counter() - start < 2.0  # about 0.2 s on a quiet machine
    assert len(run.records) == 3 * n


def test_parquet_wide_and_long(tmp_path):
    wide = pd.DataFrame({"step": [0, 10, 20], "loss": [2.0, np.nan, 1.0], "lr": [0.1] * 3})
    path = tmp_path / "metrics.parquet"
    wide.to_parquet(path)
    run = load_run(path)
    assert run.format == "parquet" and run.step_unit == "step"
    assert series(run, "loss")[:2] == ([0.0, 20.0], [2.0, 1.0])
    assert run.files == (str(path),) and run.source == str(path)
    long = pd.DataFrame(
        {"step": [0, 0, 10], "metric": ["loss", "lr", "loss"], "value": [2.0, 0.1, np.nan]}
    )
    path = tmp_path / "long.pq"
    long.to_parquet(path)
    run = load_run(path)
    assert run.format == "parquet"
    steps, values, _ = series(run, "loss")
    assert steps == [0.0, 10.0] and values[0] == 2.0 and math.isnan(values[1])


def test_parquet_errors(tmp_path, monkeypatch):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 not really")
    assert PARQUET_SPEC.sniff(path) is True
    with pytest.raises(LoadError, match=r"cannot read .*bad\.parquet"):
        load_run(path)
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    assert PARQUET_SPEC.sniff(empty) is False
    with pytest.raises(LoadError, match="is empty"):
        PARQUET_SPEC.load(empty, LoadOptions())
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(LoadError, match=r'pip install "dynamics_stats\[parquet\]"'):
        PARQUET_SPEC.load(path, LoadOptions())


def test_registered():
    assert LOADERS["table"] is SPEC
    assert LOADERS["parquet"] is PARQUET_SPEC
    assert PARQUET_SPEC.extra == "parquet"


def test_public_wide_export_loads(public_runs):
    run_dir = public_runs / "csv_cs336_lm"
    run = load_run(run_dir)
    assert run.format in ("table", "wandb_export")
    assert run.step_unit == "step"
    assert len(series(run, "train/loss")[1]) == 40
    assert len(series(run, "eval/loss")[1]) == 10
    assert len(series(run, "train/grad_norm_before_clip")[1]) == 40
    assert len(series(run, "train/grad_norm_after_clip")[1]) == 40
    assert len(series(run, "learning_rate/group_0")[1]) == 40
    direct = SPEC.load(run_dir / "metrics.csv", LoadOptions())
    assert direct.role_hints == {}
    assert not any(n.level in ("warning", "fatal") for n in direct.notes)
