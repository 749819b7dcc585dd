"""Column-name conventions of metric tables and the empty records table."""

from __future__ import annotations

import pandas as pd

from dynamics_stats.core.run_log import RECORD_COLUMNS

__all__ = ["EPOCH_COLUMNS", "STEP_COLUMNS", "TIME_COLUMNS", "empty_records"]

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
