"""Melt parsed JSON rows into `RunLog` records: `rows_to_records`.

A ``null`` or absent key gives no record; a logged NaN or Infinity (marked by
`dynamics_stats.io._json_rows.parse_json_lines`) is kept as a float value. Shared by the
JSON-lines, Hugging Face and LLaMA-Factory loaders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.io._json_rows import UNMARK, Row
from dynamics_stats.io._tables import EPOCH_COLUMNS, STEP_COLUMNS, empty_records

__all__ = ["find_key", "rows_to_records"]


def _text_columns(frame: pd.DataFrame, keep: Iterable[str]) -> list[str]:
    """Columns whose every present value is text that is not a number (notes, timestamps)."""
    found = []
    for name in frame.columns:
        column = frame[name]
        if name in keep or not (column.dtype == object or pd.api.types.is_string_dtype(column)):
            continue
        present = column.dropna()
        if present.empty or not all(isinstance(v, str) for v in present):
            continue
        if present.isin(list(UNMARK)).any():
            continue
        if pd.to_numeric(present, errors="coerce").isna().all():
            found.append(str(name))
    return found


def rows_to_records(
    rows: Sequence[Row],
    lines: Sequence[int],
    *,
    step_column: str | None = None,
    drop_columns: Iterable[str] = (),
    index_step: bool = False,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Melt parsed JSON rows into `RunLog` records.

    Parameters
    ----------
    rows : sequence of dict
        Flat rows as returned by `parse_json_lines` (NaN/Infinity still marked).
    lines : sequence of int
        The 1-based source line of each row.
    step_column : str or None, default=None
        Key holding the step; by default the first of `STEP_COLUMNS` present.
    drop_columns : iterable of str, default=()
        Keys that are not metrics.
    index_step : bool, default=False
        Use the row position (0-based) as the step.

    Returns
    -------
    (records, text_keys)
        The records (``null`` and absent keys give no record; NaN and Infinity are kept as
        floats) and the keys dropped because they only hold text.
    """
    if not rows:
        return empty_records(), ()
    frame = pd.DataFrame(list(rows))
    columns = [str(c) for c in frame.columns]
    step_col = step_column or find_key(columns, STEP_COLUMNS)
    epoch_col = find_key(columns, EPOCH_COLUMNS)
    time_col = "wall_time" if "wall_time" in columns else None
    axis = {c for c in (step_col, epoch_col, time_col) if c is not None}
    text_keys = tuple(_text_columns(frame, axis))
    skip = axis | set(drop_columns) | set(text_keys)
    n_rows = len(frame)
    step = np.arange(n_rows, dtype=float) if index_step else _axis(frame, step_col)
    axes = (step, _axis(frame, epoch_col), _axis(frame, time_col))
    line_numbers = np.asarray(lines, dtype=np.int64)
    parts = [
        part
        for col in columns
        if col not in skip
        for part in [_melt_column(col, frame[col], axes, line_numbers)]
        if part is not None
    ]
    if not parts:
        return empty_records(), text_keys
    return pd.concat(parts, ignore_index=True), text_keys


def _axis(frame: pd.DataFrame, column: str | None) -> FloatArray:
    if column is None or column not in frame.columns:
        return np.full(len(frame), np.nan)
    values = frame[column]
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        values = values.map(lambda v: UNMARK.get(v, v) if isinstance(v, str) else v)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _unmark(values: np.ndarray) -> np.ndarray:
    """Turn NaN/Infinity markers back into floats; keep other text as text."""
    restored = [UNMARK.get(v, v) if isinstance(v, str) else v for v in values]
    if not any(isinstance(v, str) for v in restored):
        return np.asarray(restored, dtype=float)
    out = np.empty(len(restored), dtype=object)
    out[:] = restored
    return out


def _melt_column(
    name: str,
    cells: pd.Series,
    axes: tuple[FloatArray, FloatArray, FloatArray],
    lines: IntArray,
) -> pd.DataFrame | None:
    present = cells.notna().to_numpy().copy()
    if not present.any():
        return None
    values = cells.to_numpy()[present]
    if values.dtype == object:
        values = _unmark(values)
    step, epoch, wall = axes
    return pd.DataFrame(
        {
            "metric": name,
            "step": step[present],
            "epoch": epoch[present],
            "wall_time": wall[present],
            "value": values,
            "line": lines[present],
        }
    )


def find_key(keys: Iterable[str], names: Sequence[str]) -> str | None:
    """Return the key whose stripped, lower-cased name comes first in ``names``, or None."""
    lowered = {k.strip().lower(): k for k in keys}
    return next((lowered[n] for n in names if n in lowered), None)
