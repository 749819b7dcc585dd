"""Parsed metric cells: `Cells` and the helpers that melt them into `RunLog` records.

A cell is a number, a logged NaN/inf, text found among numbers (kept for validation to
report), or empty ("not logged"). Shared by the DataFrame, Parquet, table, Keras and
Ultralytics loaders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RECORD_COLUMNS
from dynamics_stats.core.types import FloatArray
from dynamics_stats.io._tables import empty_records

__all__ = [
    "ABSENT_MARKS",
    "NAN_TEXTS",
    "Cells",
    "as_float",
    "cells_to_records",
    "drop_text_columns",
    "find_column",
    "parse_text_cells",
    "typed_cells",
    "unique_names",
]

#: Cell texts that mean "no value was logged here" (not a NaN result).
ABSENT_MARKS = frozenset({"NA", "N/A", "#N/A", "NULL", "NONE", "<NA>"})
#: Cell texts that spell a NaN result; kept as NaN values.
NAN_TEXTS = frozenset({"nan", "-nan", "+nan", "nan(ind)", "-nan(ind)"})
_MAX_LINES = 10


@dataclass(frozen=True, slots=True)
class Cells:
    """The cells of one metric column, parsed.

    Parameters
    ----------
    values : numpy.ndarray
        Floats, or objects (floats and the original strings) where some cells hold text.
    present : numpy.ndarray of bool
        Cells that hold a value (a number, a NaN/inf, or text).
    text : numpy.ndarray of bool
        Present cells that are not numbers.
    """

    values: NDArray[Any]
    present: NDArray[np.bool_]
    text: NDArray[np.bool_]


def parse_text_cells(
    cells: pd.Series, *, present: NDArray[np.bool_] | None = None, decimal: str = "."
) -> Cells:
    """Parse text cells into numbers, keeping the text of cells that are not numbers.

    Parameters
    ----------
    cells : pandas.Series of str
        The raw cells of one column.
    present : numpy.ndarray of bool or None, default=None
        Which cells hold a value; by default the non-blank cells that are not an absent
        mark such as ``NA`` or ``null`` (see `ABSENT_MARKS`).
    decimal : str, default="."
        Decimal separator (``","`` for semicolon-separated European exports).

    Returns
    -------
    Cells
        ``nan``/``inf`` spellings become float NaN/inf values; other text is kept as text.
    """
    stripped = cells.astype(str).str.strip()
    if present is None:
        present = (stripped.ne("") & ~stripped.str.upper().isin(ABSENT_MARKS)).to_numpy()
    source = stripped.str.replace(",", ".", regex=False) if decimal == "," else stripped
    numbers = pd.to_numeric(source, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    nan_text = stripped.str.lower().isin(NAN_TEXTS).to_numpy()
    text = np.isnan(numbers) & present & ~nan_text
    if not text.any():
        return Cells(numbers, present, text)
    values = numbers.astype(object)
    values[text] = stripped.to_numpy(dtype=object)[text]
    return Cells(values, present, text)


def cells_to_records(
    cells: Mapping[str, Cells],
    *,
    step: FloatArray,
    epoch: FloatArray,
    wall_time: FloatArray,
    lines: NDArray[np.int64],
) -> pd.DataFrame:
    """Melt parsed columns into records (one per present cell), column by column.

    Parameters
    ----------
    cells : mapping of str to Cells
        Metric name -> its parsed cells, all of the table's length.
    step, epoch, wall_time : numpy.ndarray of float
        Position of each row (NaN where unknown).
    lines : numpy.ndarray of int
        1-based source line or row number of each row (0 when unknown).

    Returns
    -------
    pandas.DataFrame
        Records with the columns of `RunLog.records`.
    """
    parts = []
    for name, col in cells.items():
        keep = col.present
        if not keep.any():
            continue
        part = {
            "metric": np.full(int(keep.sum()), name, dtype=object),
            "step": step[keep],
            "epoch": epoch[keep],
            "wall_time": wall_time[keep],
            "value": col.values[keep],
            "line": lines[keep],
        }
        parts.append(pd.DataFrame(part, columns=list(RECORD_COLUMNS)))
    if not parts:
        return empty_records()
    return pd.concat(parts, ignore_index=True)


def drop_text_columns(
    cells: Mapping[str, Cells], source: str
) -> tuple[dict[str, Cells], tuple[ValidationIssue, ...]]:
    """Drop the columns whose every value is text (run names, dates as text...).

    Parameters
    ----------
    cells : mapping of str to Cells
        Parsed columns.
    source : str
        The file or object read, for the note.

    Returns
    -------
    (dict, tuple of ValidationIssue)
        The columns kept (numbers, possibly with a few text cells) and an info note
        naming the dropped columns, if any.
    """
    kept = {n: c for n, c in cells.items() if not (c.present.any() and c.text[c.present].all())}
    dropped = [n for n in cells if n not in kept]
    if not dropped:
        return kept, ()
    note = ValidationIssue(
        code="text_columns_dropped",
        level="info",
        message=(
            f"{len(dropped)} column(s) of {source} hold only text and were not read as "
            f"metrics: {', '.join(repr(n) for n in dropped[:_MAX_LINES])}."
        ),
        n_affected=len(dropped),
    )
    return kept, (note,)


def typed_cells(column: pd.Series, *, decimal: str = ".") -> Cells:
    """Parse one column of any dtype: numbers as floats (NaN = empty), text as text.

    Parameters
    ----------
    column : pandas.Series
        A metric column: numeric, boolean, or object/str holding numbers and text.
    decimal : str, default="."
        Decimal separator used in text cells.

    Returns
    -------
    Cells
        In a numeric column NaN means "not logged"; in a text column the cells spelling
        ``nan``/``inf`` are NaN/inf values and blanks or `ABSENT_MARKS` are not logged.
    """
    if pd.api.types.is_bool_dtype(column) or (
        pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column)
    ):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        return Cells(values, ~np.isnan(values), np.zeros(len(values), dtype=bool))
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        present = column.notna().to_numpy()
        return Cells(column.astype(str).to_numpy(dtype=object), present, present.copy())
    text = column.astype(str).str.strip()
    present = (column.notna() & text.ne("") & ~text.str.upper().isin(ABSENT_MARKS)).to_numpy()
    return parse_text_cells(text, present=present, decimal=decimal)


def as_float(column: pd.Series, *, decimal: str = ".") -> FloatArray:
    """Return a column as floats, NaN where empty or text."""
    cells = typed_cells(column, decimal=decimal)
    if not cells.text.any():
        return np.asarray(cells.values, dtype=float)
    return np.where(cells.text, np.nan, cells.values).astype(float)


def find_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    """Return the first column whose lower-cased name is in ``names`` (in their order)."""
    lowered = {c.strip().lower(): c for c in reversed(columns)}
    return next((lowered[n] for n in names if n in lowered), None)


def unique_names(names: Sequence[str]) -> list[str]:
    """Return the names stripped, blanks as ``Unnamed: i`` and repeats as ``name.k``."""
    unique: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(names):
        name = raw.strip() or f"Unnamed: {i}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}.{count}")
    return unique
