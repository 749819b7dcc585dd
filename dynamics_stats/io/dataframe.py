"""Read a pandas DataFrame, wide or long, into a `RunLog`: `load_frame`.

A wide frame has one column per metric and a step column (or an integer index used as the
step); a long frame has ``metric`` and ``value`` columns beside ``step`` (and optionally
``epoch`` and ``wall_time``). `frame_to_log` also reads Parquet files. The cell helpers
(`Cells`, `parse_text_cells`, `cells_to_records`...) live in `dynamics_stats.io._cells`
and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._cells import (
    Cells,
    as_float,
    cells_to_records,
    drop_text_columns,
    find_column,
    parse_text_cells,
    typed_cells,
    unique_names,
)
from dynamics_stats.io._tables import EPOCH_COLUMNS, STEP_COLUMNS, TIME_COLUMNS

__all__ = [
    "SPEC",
    "Cells",
    "as_float",
    "cells_to_records",
    "drop_text_columns",
    "find_column",
    "frame_to_log",
    "load_frame",
    "parse_text_cells",
    "typed_cells",
    "unique_names",
]


def _index_position(frame: pd.DataFrame) -> tuple[FloatArray, StepUnit, bool] | None:
    """Return the index as position: (values, unit, whether it is named step/epoch)."""
    index = frame.index
    if isinstance(index, pd.MultiIndex) or not pd.api.types.is_integer_dtype(index):
        return None
    values = index.to_numpy(dtype=float)
    if index.name is None:
        return values, ("index" if isinstance(index, pd.RangeIndex) else "step"), False
    name = str(index.name).strip().lower()
    if name in STEP_COLUMNS:
        return values, "step", True
    if name in EPOCH_COLUMNS:
        return values, "epoch", True
    return None


def _wide_records(
    frame: pd.DataFrame, options: LoadOptions, source: str
) -> tuple[pd.DataFrame, StepUnit, tuple[ValidationIssue, ...]]:
    columns = list(frame.columns)
    step_col = _step_column(columns, options, source)
    epoch_col = find_column(columns, EPOCH_COLUMNS)
    time_col = find_column(columns, TIME_COLUMNS)
    n_rows = len(frame)
    nan = np.full(n_rows, np.nan)
    epoch = as_float(frame[epoch_col]) if epoch_col else nan
    from_index = _index_position(frame)
    unit: StepUnit
    if step_col is not None:
        step, unit = as_float(frame[step_col]), "step"
    elif from_index is not None and (from_index[2] or epoch_col is None):
        step, unit, _ = from_index
    elif epoch_col is not None:
        step, unit = epoch, "epoch"
    else:
        step, unit = np.arange(n_rows, dtype=float), "index"
    wall = as_float(frame[time_col]) if time_col else nan
    axis = {step_col, epoch_col, time_col}
    cells = {c: typed_cells(frame[c]) for c in columns if c not in axis}
    cells, notes = drop_text_columns(cells, source)
    if not cells:
        raise LoadError(
            f"{source} has no numeric metric column (columns seen: "
            f"{', '.join(repr(c) for c in columns) or 'none'}). Give it one column per metric "
            "holding numbers, or long columns 'step', 'metric', 'value'."
        )
    lines = np.arange(1, n_rows + 1, dtype=np.int64)
    records = cells_to_records(cells, step=step, epoch=epoch, wall_time=wall, lines=lines)
    return records, unit, notes


def _step_column(columns: list[str], options: LoadOptions, source: str) -> str | None:
    if options.step_column is None:
        return find_column(columns, STEP_COLUMNS)
    if options.step_column in columns:
        return options.step_column
    raise LoadError(
        f"step column {options.step_column!r} is not in {source} (columns: "
        f"{', '.join(repr(c) for c in columns)}). Pass one of these as options.step_column."
    )


def _long_records(frame: pd.DataFrame, columns: dict[str, str]) -> tuple[pd.DataFrame, StepUnit]:
    n_rows = len(frame)
    nan = np.full(n_rows, np.nan)
    step_col = next((columns[n] for n in STEP_COLUMNS if n in columns), None)
    epoch_col = next((columns[n] for n in EPOCH_COLUMNS if n in columns), None)
    time_col = next((columns[n] for n in TIME_COLUMNS if n in columns), None)
    epoch = as_float(frame[epoch_col]) if epoch_col else nan
    unit: StepUnit = "step" if step_col else ("epoch" if epoch_col else "index")
    step = as_float(frame[step_col]) if step_col else (epoch if epoch_col else nan)
    raw = frame[columns["value"]]
    cells = typed_cells(raw)
    if pd.api.types.is_numeric_dtype(raw):
        keep = np.ones(n_rows, dtype=bool)  # every row of a long table was logged, NaN too
    else:
        keep = cells.present | raw.map(_is_float_nan).to_numpy(dtype=bool)
    records = pd.DataFrame(
        {
            "metric": frame[columns["metric"]].astype(str).to_numpy(dtype=object),
            "step": step,
            "epoch": epoch,
            "wall_time": as_float(frame[time_col]) if time_col else nan,
            "value": cells.values,
            "line": np.arange(1, n_rows + 1, dtype=np.int64),
        }
    )
    return records[keep].reset_index(drop=True), unit


def _is_float_nan(value: object) -> bool:
    return isinstance(value, float) and value != value


def _flat_columns(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame.columns, pd.MultiIndex):
        names = ["/".join(str(p) for p in parts if str(p) != "") for parts in frame.columns]
    else:
        names = [str(c) for c in frame.columns]
    return frame.set_axis(unique_names(names), axis=1)


def frame_to_log(
    frame: pd.DataFrame,
    options: LoadOptions,
    *,
    source: str = "<DataFrame>",
    format: str = "dataframe",  # noqa: A002 - the registry's word
    files: tuple[str, ...] = (),
) -> RunLog:
    """Build a `RunLog` from a wide or long DataFrame (also used for Parquet files).

    Parameters
    ----------
    frame : pandas.DataFrame
        Wide (one column per metric) or long (``metric`` and ``value`` columns).
    options : LoadOptions
        ``options.step_column`` names the step column of a wide frame.
    source : str, default="<DataFrame>"
        What the frame came from, for `RunLog.source` and messages.
    format : str, default="dataframe"
        Registry name recorded in the `RunLog`.
    files : tuple of str, default=()
        Files read to get the frame.

    Returns
    -------
    RunLog
        Records in column order (wide) or row order (long); ``line`` is the 1-based row.

    Raises
    ------
    LoadError
        If the frame is empty or has no numeric metric column.
    """
    if not isinstance(frame, pd.DataFrame):
        raise LoadError(
            f"expected a pandas DataFrame for {source}; got {type(frame).__name__}. "
            "Pass a DataFrame, or a path to load_run."
        )
    frame = _flat_columns(frame)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise LoadError(
            f"{source} is empty ({frame.shape[0]} rows, {frame.shape[1]} columns; "
            f"columns seen: {', '.join(repr(c) for c in frame.columns) or 'none'}). "
            "Pass a frame with at least one row and one metric column."
        )
    lowered = {c.strip().lower(): c for c in reversed(list(frame.columns))}
    notes: tuple[ValidationIssue, ...] = ()
    if "metric" in lowered and "value" in lowered:
        records, unit = _long_records(frame, lowered)
    else:
        records, unit, notes = _wide_records(frame, options, source)
    return RunLog(
        source=source, format=format, records=records, step_unit=unit, notes=notes, files=files
    )


def load_frame(frame: pd.DataFrame, options: LoadOptions) -> RunLog:
    """Read a pandas DataFrame of logged metrics.

    Parameters
    ----------
    frame : pandas.DataFrame
        Wide: a step column (one of `STEP_COLUMNS`, or ``options.step_column``), or an
        integer index named ``step``/``epoch`` or unnamed, and one column per metric.
        Long: ``step``, ``metric``, ``value`` columns, optionally ``epoch`` and
        ``wall_time``.
    options : LoadOptions
        Loader options.

    Returns
    -------
    RunLog
        With source ``"<DataFrame>"`` and format ``"dataframe"``. In a wide frame an empty
        (NaN) cell means "not logged"; in a long frame every row is a record, NaN included.

    Raises
    ------
    LoadError
        If the frame is empty or has no numeric metric column; the message names the
        columns seen.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"step": [0, 10], "loss": [2.0, 1.5]})
    >>> load_frame(frame, LoadOptions()).records["value"].tolist()
    [2.0, 1.5]
    """
    return frame_to_log(frame, options)


def _sniff(path: Path) -> bool:
    return False


def _load(path: Path, options: LoadOptions) -> RunLog:
    raise LoadError(
        f"the 'dataframe' format reads pandas DataFrames, not files: got '{path}'. Pass the "
        "DataFrame itself to load_run, or use format='table' or 'parquet' for a file."
    )


SPEC = LoaderSpec(
    format="dataframe",
    description="pandas DataFrame, wide (one column per metric) or long (step, metric, value)",
    sniff=_sniff,
    load=_load,
)
