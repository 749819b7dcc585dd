"""Generic wide tables: delimited text (CSV, TSV, ``;`` or ``|``) and Parquet files.

One column per metric, one row per logging event; cells may be empty (not logged at that
row). The reading helpers (`sniff_header`, `read_delimited`, `parse_columns`, `numbers_of`)
live in `dynamics_stats.io._delimited` and `dynamics_stats.io._delimited_header`, shared
with the Keras and Ultralytics loaders, and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._cells import cells_to_records, drop_text_columns, find_column
from dynamics_stats.io._delimited import (
    DelimitedTable,
    numbers_of,
    parse_columns,
    read_delimited,
)
from dynamics_stats.io._delimited_header import TableHeader, sniff_header
from dynamics_stats.io._tables import EPOCH_COLUMNS, STEP_COLUMNS, TIME_COLUMNS
from dynamics_stats.io.dataframe import frame_to_log

__all__ = [
    "PARQUET_SPEC",
    "SPEC",
    "DelimitedTable",
    "TableHeader",
    "numbers_of",
    "parse_columns",
    "read_delimited",
    "sniff_header",
]

_TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})


def _wall_time(table: DelimitedTable, name: str | None) -> FloatArray | None:
    """Seconds from a numeric or ISO-8601 time column, or None if it holds neither."""
    seconds = numbers_of(table, name)
    if name is None or not np.isnan(seconds).all():
        return seconds
    try:
        text = table.frame[name].astype(str).str.strip()
        stamps = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed time zones
        return None
    if stamps.isna().all():
        return None
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(None)
    epoch = pd.Timestamp("1970-01-01")
    elapsed = (stamps - epoch) / pd.Timedelta(seconds=1)
    return np.asarray(elapsed.to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)


def _step_column(path: Path, columns: list[str], options: LoadOptions) -> str | None:
    step_col = options.step_column or find_column(columns, STEP_COLUMNS)
    if step_col is not None and step_col not in columns:
        raise LoadError(
            f"step column {step_col!r} is not in '{path}' (columns: "
            f"{', '.join(repr(c) for c in columns)}). Pass one of these as options.step_column."
        )
    return step_col


def _step_of(
    table: DelimitedTable, step_col: str | None, epoch_col: str | None
) -> tuple[FloatArray, StepUnit]:
    """Return the step column as the step, else the epoch, else the row position."""
    if step_col is not None:
        return numbers_of(table, step_col), "step"
    if epoch_col is not None:
        return numbers_of(table, epoch_col), "epoch"
    return np.arange(len(table.frame), dtype=float), "index"


def _load_table(path: Path, options: LoadOptions) -> RunLog:
    table = read_delimited(path)
    columns = [str(c) for c in table.frame.columns]
    step_col = _step_column(path, columns, options)
    epoch_col = find_column(columns, EPOCH_COLUMNS)
    time_col = find_column(columns, TIME_COLUMNS)
    wall = _wall_time(table, time_col)
    if wall is None:
        time_col, wall = None, numbers_of(table, None)
    step, unit = _step_of(table, step_col, epoch_col)
    axis = {step_col, epoch_col, time_col}
    cells = parse_columns(table, [c for c in columns if c not in axis])
    cells, dropped = drop_text_columns(cells, f"'{path}'")
    if not cells:
        raise LoadError(
            f"'{path}' has no numeric metric column (columns: "
            f"{', '.join(repr(c) for c in columns)}). A table needs one column per metric."
        )
    epoch = numbers_of(table, epoch_col)
    records = cells_to_records(cells, step=step, epoch=epoch, wall_time=wall, lines=table.lines)
    return RunLog(
        source=str(path),
        format="table",
        records=records,
        step_unit=unit,
        notes=table.notes + dropped,
        files=(str(path),),
    )


def _sniff_table(path: Path) -> bool:
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        return False
    header = sniff_header(path)
    if header is None:
        return False
    return header.numeric_data or path.suffix.lower() != ".txt"


def _sniff_parquet(path: Path) -> bool:
    if path.suffix.lower() not in (".parquet", ".pq"):
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError:
        return False


def _load_parquet(path: Path, options: LoadOptions) -> RunLog:
    try:
        import pyarrow  # noqa: F401 - the engine pandas needs
    except ImportError as err:
        raise LoadError(
            f"reading '{path}' needs pyarrow. Install the extra: "
            'pip install "dynamics_stats[parquet]"'
        ) from err
    if path.is_file() and path.stat().st_size == 0:
        raise LoadError(f"'{path}' is empty: it holds no Parquet data.")
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except (OSError, ValueError, TypeError) as err:
        raise LoadError(f"cannot read '{path}' as Parquet: {err}") from err
    return frame_to_log(frame, options, source=str(path), format="parquet", files=(str(path),))


SPEC = LoaderSpec(
    format="table",
    description="wide CSV/TSV table, one column per metric (delimiter , ; tab or |)",
    sniff=_sniff_table,
    load=_load_table,
)
PARQUET_SPEC = LoaderSpec(
    format="parquet",
    description="Parquet table, wide (one column per metric) or long (step, metric, value)",
    sniff=_sniff_parquet,
    load=_load_parquet,
    extra="parquet",
)
