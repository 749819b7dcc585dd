"""Property test: any wide table written to CSV loads or fails with our own LoadError."""

from __future__ import annotations

import csv

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RECORD_COLUMNS, RunLog
from dynamics_stats.io import load_run

NAMES = st.one_of(
    st.sampled_from(["step", "epoch", "loss", "val_loss", "lr", "train/loss", "time", "", "Step"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
)
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", " ", "nan", "NaN", "-inf", "inf", "NA", "null", "None", "1e400", "0x1F"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
)


@st.composite
def tables(draw):
    names = draw(st.lists(NAMES, min_size=1, max_size=6))
    n_rows = draw(st.integers(0, 12))
    rows = [draw(st.lists(CELLS, min_size=len(names), max_size=len(names))) for _ in range(n_rows)]
    if "step" in names and rows:  # duplicated and shuffled steps
        steps = draw(st.lists(st.integers(-3, 5), min_size=n_rows, max_size=n_rows))
        for row, step in zip(rows, steps, strict=True):
            row[names.index("step")] = str(step)
    ragged = draw(st.booleans())
    if ragged and rows:  # a truncated or over-long last line
        rows[-1] = rows[-1][: draw(st.integers(0, len(names) + 2))] + ["x"] * draw(
            st.integers(0, 2)
        )
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    end = draw(st.sampled_from(["", newline]))
    return names, rows, delimiter, newline, end


def _write(path, names, rows, delimiter, newline, end):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=newline)
        writer.writerow(names)
        writer.writerows(rows)
    text = path.read_text(encoding="utf-8")
    if not end and text.endswith(newline):
        path.write_text(text[: -len(newline)], encoding="utf-8", newline="")


def _check(run: RunLog) -> None:
    assert tuple(run.records.columns) == RECORD_COLUMNS
    assert run.step_unit in ("step", "epoch", "index")
    for value in run.records["value"]:
        assert isinstance(value, (float, str)), type(value)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=tables(), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_any_wide_table_loads_or_raises_load_error(tmp_path_factory, table, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"metrics{suffix}"
    _write(path, *table)
    for fmt in (None, "table"):
        try:
            run = load_run(path, format=fmt)
        except LoadError:
            continue
        _check(run)


@settings(max_examples=50, deadline=None)
@given(table=tables())
def test_any_wide_frame_loads_or_raises_load_error(table):
    names, rows, *_ = table
    width = len(names)
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in rows], columns=names)
    try:
        run = load_run(frame)
    except LoadError:
        return
    _check(run)
