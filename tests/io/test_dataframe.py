"""Tests of the DataFrame loader (dynamics_stats.io.dataframe)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LOADERS, LoadOptions, load_run
from dynamics_stats.io.dataframe import SPEC, load_frame


def series(run, metric):
    rec = run.records[run.records["metric"] == metric]
    return rec["step"].tolist(), rec["value"].tolist(), rec["line"].tolist()


def test_wide_frame_with_step_column():
    frame = pd.DataFrame(
        {"step": [0, 10, 20], "loss": [2.0, np.nan, np.inf], "lr": [0.1, 0.1, 0.05]}
    )
    run = load_run(frame)
    assert run.source == "<DataFrame>" and run.format == "dataframe"
    assert run.step_unit == "step"
    assert series(run, "loss") == ([0.0, 20.0], [2.0, math.inf], [1, 3])  # NaN = not logged
    assert series(run, "lr")[0] == [0.0, 10.0, 20.0]
    assert run.files == () and run.notes == ()
    assert frame.shape == (3, 3)  # input untouched


def test_keras_history_frame_uses_row_index():
    history = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]}
    run = load_frame(pd.DataFrame(history), LoadOptions())
    assert run.step_unit == "index"
    assert series(run, "val_loss")[:2] == ([0.0, 1.0], [1.2, 0.9])


@pytest.mark.parametrize(
    ("index", "unit", "steps"),
    [
        (pd.Index([5, 10], name="step"), "step", [5.0, 10.0]),
        (pd.Index([1, 2], name="epoch"), "epoch", [1.0, 2.0]),
        (pd.Index([100, 200]), "step", [100.0, 200.0]),
        (pd.Index(["a", "b"]), "index", [0.0, 1.0]),
    ],
)
def test_index_as_position(index, unit, steps):
    run = load_frame(pd.DataFrame({"loss": [1.0, 0.9]}, index=index), LoadOptions())
    assert run.step_unit == unit
    assert series(run, "loss")[0] == steps


def test_epoch_column_beats_a_plain_range_index():
    run = load_frame(pd.DataFrame({"epoch": [1, 2], "loss": [1.0, 0.9]}), LoadOptions())
    assert run.step_unit == "epoch"
    assert series(run, "loss")[0] == [1.0, 2.0]
    assert run.records["epoch"].tolist() == [1.0, 2.0]


def test_step_column_option():
    frame = pd.DataFrame({"updates": [3, 6], "loss": [1.0, 0.9]})
    run = load_frame(frame, LoadOptions(step_column="updates"))
    assert series(run, "loss")[0] == [3.0, 6.0]
    with pytest.raises(LoadError, match=r"step column 'nope' is not in <DataFrame>.*'updates'"):
        load_frame(frame, LoadOptions(step_column="nope"))


def test_long_frame_keeps_nan_and_order():
    frame = pd.DataFrame(
        {
            "step": [0, 0, 10, 10],
            "metric": ["loss", "val_loss", "loss", "val_loss"],
            "value": [2.0, 2.1, np.nan, 1.9],
            "epoch": [0, 0, 1, 1],
            "wall_time": [100.0, 101.0, 160.0, 161.0],
        }
    )
    run = load_run(frame)
    assert run.step_unit == "step"
    assert run.records["metric"].tolist() == ["loss", "val_loss", "loss", "val_loss"]
    steps, values, lines = series(run, "loss")
    assert steps == [0.0, 10.0] and values[0] == 2.0 and math.isnan(values[1])
    assert lines == [1, 3]
    assert run.records["wall_time"].tolist() == [100.0, 101.0, 160.0, 161.0]
    assert run.records["epoch"].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_long_frame_with_text_values():
    frame = pd.DataFrame({"step": [0, 1, 2], "metric": ["loss"] * 3, "value": [1.0, "bad", None]})
    run = load_frame(frame, LoadOptions())
    assert series(run, "loss")[1] == [1.0, "bad"]


def test_junk_strings_kept_text_columns_dropped():
    frame = pd.DataFrame(
        {
            "step": [1, 2, 3],
            "loss": [1.0, "oops", "0.5"],
            "run": ["a", "a", "a"],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        }
    )
    run = load_frame(frame, LoadOptions())
    assert series(run, "loss")[1] == [1.0, "oops", 0.5]
    assert run.metric_names == ("loss",)
    (note,) = run.notes
    assert note.code == "text_columns_dropped" and "'run'" in note.message


def test_multiindex_columns_are_joined():
    frame = pd.DataFrame(
        [[0, 1.0, 2.0]],
        columns=pd.MultiIndex.from_tuples([("step", ""), ("train", "loss"), ("val", "loss")]),
    )
    run = load_frame(frame, LoadOptions())
    assert run.metric_names == ("train/loss", "val/loss")
    assert run.step_unit == "step"


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            pd.DataFrame({"step": [1, 2], "run": ["a", "b"]}),
            r"no numeric metric column .*'step', 'run'",
        ),
        (pd.DataFrame({"step": [1, 2]}), r"no numeric metric column \(columns seen: 'step'\)"),
        (pd.DataFrame(), r"<DataFrame> is empty"),
        (pd.DataFrame({"loss": []}), r"is empty .*'loss'"),
    ],
)
def test_unusable_frames_raise(frame, match):
    with pytest.raises(LoadError, match=match):
        load_run(frame)


def test_not_a_frame_raises():
    with pytest.raises(LoadError, match="expected a pandas DataFrame"):
        load_frame([1, 2], LoadOptions())  # type: ignore[arg-type]


def test_spec_is_not_for_paths(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,loss\n1,0.5\n")
    assert SPEC.sniff(path) is False
    with pytest.raises(LoadError, match="reads pandas DataFrames, not files"):
        SPEC.load(path, LoadOptions())
    assert "dataframe" not in LOADERS  # DataFrames go straight to load_frame
