"""Turn wide tables (one column per metric) into `RunLog` records."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from dynamics_stats.core.run_log import RECORD_COLUMNS

__all__ = ["STEP_COLUMNS", "EPOCH_COLUMNS", "TIME_COLUMNS", "empty_records", "wide_to_records"]

#: Column names taken as the step axis, in order of preference (lower-cased).
STEP_COLUMNS: tuple[str, ...] = (
    "step",
    "global_step",
    "_step",
    "trainer/global_step",
    "current_steps",
    "iteration",
    "iter",
    "it",
    "train/global_step",
)
#: Column names taken as the epoch (lower-cased).
EPOCH_COLUMNS: tuple[str, ...] = ("epoch", "epochs", "train/epoch")
#: Column names taken as wall-clock time in seconds (lower-cased).
TIME_COLUMNS: tuple[str, ...] = ("_timestamp", "timestamp", "wall_time", "time", "created_at")


def empty_records() -> pd.DataFrame:
    """Return an empty records table with the right columns."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})


def _find(columns: Iterable[str], names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return str(lowered[name])
    return None


def _numeric_or_nan(column: pd.Series) -> np.ndarray:  # type: ignore[type-arg]
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def wide_to_records(
    table: pd.DataFrame,
    *,
    step_column: str | None = None,
    line_offset: int = 2,
    drop_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """Melt a wide table into records, one per non-empty cell.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per logging event, one column per metric; cells may be empty (NaN/None),
        numbers, or strings as read.
    step_column : str or None, default=None
        Column holding the step; by default the first of `STEP_COLUMNS` present.
    line_offset : int, default=2
        Source line number of the table's first row (2 for a CSV with one header line).
    drop_columns : iterable of str, default=()
        Columns that are not metrics (ids, timestamps as text...).

    Returns
    -------
    pandas.DataFrame
        Records with the columns of `RunLog.records`. Step, epoch and wall time come from
        their columns when present (NaN otherwise); every other column is a metric.
    """
    columns = [str(c) for c in table.columns]
    table = table.set_axis(columns, axis=1)
    step_col = step_column or _find(columns, STEP_COLUMNS)
    epoch_col = _find(columns, EPOCH_COLUMNS)
    time_col = _find(columns, TIME_COLUMNS)
    axis_cols = {c for c in (step_col, epoch_col, time_col) if c is not None}
    skip = axis_cols | set(drop_columns)
    metric_cols = [c for c in columns if c not in skip]
    n_rows = len(table)
    step = _numeric_or_nan(table[step_col]) if step_col else np.full(n_rows, np.nan)
    epoch = _numeric_or_nan(table[epoch_col]) if epoch_col else np.full(n_rows, np.nan)
    wall = _numeric_or_nan(table[time_col]) if time_col else np.full(n_rows, np.nan)
    lines = np.arange(line_offset, line_offset + n_rows, dtype=np.int64)
    parts = []
    for col in metric_cols:
        cells = table[col]
        present = cells.notna().to_numpy()
        if isinstance(cells.dtype, pd.StringDtype) or cells.dtype == object:
            present = present & cells.astype(str).str.strip().ne("").to_numpy()
        if not present.any():
            continue
        parts.append(
            pd.DataFrame(
                {
                    "metric": col,
                    "step": step[present],
                    "epoch": epoch[present],
                    "wall_time": wall[present],
                    "value": cells.to_numpy()[present],
                    "line": lines[present],
                }
            )
        )
    if not parts:
        return empty_records()
    return pd.concat(parts, ignore_index=True)
