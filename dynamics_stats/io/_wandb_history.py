"""W&B history rows -> `RunLog` records, shared by the run-log and export readers.

One ``wandb.log`` call is one row: its step, epoch and ``_timestamp`` apply to every value
logged with it. A value logged as NaN or inf is a value; a key absent from a row is not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import FloatArray
from dynamics_stats.io._tables import EPOCH_COLUMNS, empty_records

__all__ = ["Notes", "csv_records", "listed", "long_records", "note"]

#: Logged by W&B or by the loggers that use it; the optimizer step when present.
_GLOBAL_STEPS = ("train/global_step", "trainer/global_step")
_NOT_METRICS = ("_runtime", "_step", "_timestamp")
_NAN_TEXT = frozenset({"nan", "-nan", "+nan"})
_MAX_LISTED = 10
Notes = tuple[ValidationIssue, ...]


def note(code: str, level: Any, message: str, **fields: Any) -> ValidationIssue:
    """Build a `ValidationIssue` (``level`` is one of its levels)."""
    return ValidationIssue(code, level, message, **fields)


def listed(names: Iterable[str]) -> str:
    """Join the first names with commas, ``...`` marking the ones left out."""
    items = list(names)
    return ", ".join(items[:_MAX_LISTED]) + (", ..." if len(items) > _MAX_LISTED else "")


def _axis_keys(
    keys: Iterable[str], step_column: str | None
) -> tuple[str | None, str | None, Notes]:
    """Pick the step and epoch keys; ``train/global_step`` beats ``_step`` (counts calls)."""
    names = sorted(set(keys))
    global_step = next((k for k in _GLOBAL_STEPS if k in names), None)
    step = step_column or global_step or next((k for k in ("_step", "Step") if k in names), None)
    epoch = next((k for e in EPOCH_COLUMNS for k in names if k.lower() == e and k != step), None)
    if global_step is None or step != global_step:
        return step, epoch, ()
    message = f"steps taken from '{global_step}' (W&B's own _step counts log calls)."
    return step, epoch, (note("wandb_step", "info", message),)


def _skipped(names: Iterable[str]) -> Notes:
    names = sorted(set(names))
    if not names:
        return ()
    message = f"skipped logged values that are not numbers (media, tables, lists): {listed(names)}."
    return (note("wandb_non_scalar", "info", message, n_affected=len(names)),)


def _row_axis(frame: pd.DataFrame, names: set[str], key: str | None) -> FloatArray:
    """Return the number logged under ``key`` in the row of each value (NaN if absent)."""
    if key not in names:
        return np.full(len(frame), np.nan)
    rows = frame[frame["metric"] == key].drop_duplicates("line", keep="last")
    by_row = pd.to_numeric(rows["value"], errors="coerce").astype(float)
    return frame["line"].map(dict(zip(rows["line"], by_row, strict=True))).to_numpy(float)


def _media_keys(names: set[str], axis: Iterable[str | None]) -> tuple[set[str], set[str]]:
    """Return the media logged (``<key>._type``) and every key that is not a metric."""
    media = {k[: -len("._type")] for k in names if k.endswith("._type")}
    skip = {k for k in names if any(k.startswith(m + ".") for m in media)}
    skip |= {k for k in (*axis, *_NOT_METRICS) if k is not None}
    return media, skip


def long_records(
    keys: Sequence[str], values: Sequence[Any], lines: Sequence[int], step_column: str | None
) -> tuple[pd.DataFrame, Notes]:
    """Build records from (key, value, row) triples, one row per ``wandb.log`` call.

    The step, epoch and ``_timestamp`` of a row apply to every value of that row; a value
    logged as NaN or inf is kept, a key absent from a row is simply not there.
    """
    frame = pd.DataFrame(
        {"metric": keys, "value": pd.Series(values, dtype=object), "line": np.asarray(lines)}
    )
    names = set(pd.unique(frame["metric"]))
    step, epoch, notes = _axis_keys(names, step_column)
    media, skip = _media_keys(names, (step, epoch))
    kinds = frame["value"].map(type)
    nested = kinds.isin([dict, list]).to_numpy()
    absent = kinds.isin([type(None)]).to_numpy()
    keep = ~frame["metric"].isin(skip).to_numpy() & ~nested & ~absent
    flags = kinds.isin([bool]).to_numpy()
    frame.loc[flags, "value"] = frame.loc[flags, "value"].astype(float)
    records = pd.DataFrame(
        {
            "metric": frame["metric"],
            "step": _row_axis(frame, names, step),
            "epoch": _row_axis(frame, names, epoch),
            "wall_time": _row_axis(frame, names, "_timestamp"),
            "value": frame["value"],
            "line": frame["line"],
        }
    )[keep].reset_index(drop=True)
    with contextlib.suppress(ValueError, TypeError):  # text among the values: keep it as text
        records["value"] = records["value"].astype(float)
    skipped = media | set(frame.loc[nested, "metric"]) - skip
    return records, notes + _skipped(skipped)


def csv_records(raw: pd.DataFrame, step_column: str | None) -> tuple[pd.DataFrame, Notes]:
    """Melt a CSV read as text: empty cells are missing, ``nan``/``inf`` text are values."""
    step, epoch, notes = _axis_keys(raw.columns, step_column)
    n_rows = len(raw)

    def numbers(column: str | None) -> np.ndarray:
        if column is None or column not in raw.columns:
            return np.full(n_rows, np.nan)
        return pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)

    axis = {"step": numbers(step), "epoch": numbers(epoch), "wall_time": numbers("_timestamp")}
    lines = np.arange(2, n_rows + 2)
    parts, skipped = [], []
    for column in [c for c in raw.columns if c not in {step, epoch, *_NOT_METRICS}]:
        text = raw[column].astype(str).str.strip()
        present = (text != "").to_numpy()
        if not present.any():
            continue
        if text[present].str.startswith(("{", "[")).any():
            skipped.append(column)
            continue
        numeric = pd.to_numeric(text, errors="coerce")
        is_number = (numeric.notna() | text.str.lower().isin(_NAN_TEXT)).to_numpy()
        value = np.where(is_number, numeric.to_numpy(dtype=float), text.to_numpy(dtype=object))
        columns = {"metric": column, **axis, "value": value, "line": lines}
        parts.append(pd.DataFrame(columns)[present])
    records = pd.concat(parts, ignore_index=True) if parts else empty_records()
    with contextlib.suppress(ValueError, TypeError):
        records["value"] = records["value"].astype(float)
    return records, notes + _skipped(skipped)
