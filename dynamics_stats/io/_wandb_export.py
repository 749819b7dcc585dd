"""Read W&B history exports: ``run.history()`` saved as CSV or JSON, or a chart's CSV.

The loader behind `dynamics_stats.io.wandb.EXPORT_SPEC`: `sniff_export` and `load_export`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io._base import LoadOptions
from dynamics_stats.io._wandb_history import Notes, csv_records, listed, long_records, note

__all__ = ["load_export", "sniff_export"]


def _is_history_header(columns: list[str]) -> bool:
    return "_step" in columns and ("_runtime" in columns or "_timestamp" in columns)


def _is_chart_header(columns: list[str]) -> bool:
    return len(columns) > 1 and columns[0] == "Step" and all(" - " in c for c in columns[1:])


def sniff_export(path: Path) -> bool:
    """Tell a W&B export by its header: ``_step`` with ``_runtime`` or ``_timestamp``."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".json", ".jsonl"}:
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError:
        return False
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    if suffix == ".csv":
        header = next(csv.reader([text.lstrip("\ufeff").splitlines()[0]]), []) if text else []
        return _is_history_header(header) or _is_chart_header(header)
    return '"_step"' in text and ('"_runtime"' in text or '"_timestamp"' in text)


def _chart_to_history(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Turn a chart export into a history: strip ``<run> - ``, drop ``__MIN``/``__MAX``."""
    series = [c for c in table.columns[1:] if not c.endswith(("__MIN", "__MAX"))]
    runs = sorted({c.rpartition(" - ")[0] for c in series})
    if len(runs) > 1:
        raise LoadError(
            f"'{path}' is a W&B chart export holding {len(runs)} runs ({listed(runs)}); "
            "export the chart with only one run visible (hide the others in the W&B UI)."
        )
    renamed = {c: c.rpartition(" - ")[2] for c in series}
    return table[["Step", *series]].rename(columns=renamed)


def _json_rows(path: Path, text: str) -> tuple[list[Any], list[int], Notes]:
    """Rows of a JSON list (numbered by position) or of JSON lines (numbered by line)."""
    if text.lstrip().startswith("["):
        try:
            listed = json.loads(text)
        except json.JSONDecodeError as err:
            raise LoadError(f"'{path}' is not valid JSON: {err}. Export it again.") from err
        return listed, list(range(1, len(listed) + 1)), ()
    rows: list[Any] = []
    lines: list[int] = []
    notes: Notes = ()
    numbered = [(i, s) for i, s in enumerate(text.splitlines(), start=1) if s.strip()]
    for i, line in numbered:
        try:
            rows.append(json.loads(line))
            lines.append(i)
        except json.JSONDecodeError:
            last = i == numbered[-1][0] and not text.endswith("\n")
            message = f"line {i} of '{path}' is {'cut short' if last else 'not JSON'}; skipped."
            level = "repaired" if last else "warning"
            notes += (note("wandb_bad_line", level, message, n_affected=1, lines=(i,)),)
    return rows, lines, notes


def _read_export(path: Path, step_column: str | None) -> tuple[pd.DataFrame, Notes]:
    if path.suffix.lower() != ".csv":
        rows, lines, notes = _json_rows(path, path.read_text(encoding="utf-8"))
        if not all(isinstance(r, dict) for r in rows):
            raise LoadError(f"'{path}' must hold one JSON object per logged row (a list or lines).")
        keys = [key for row in rows for key in row]
        values = [value for row in rows for value in row.values()]
        numbers = [line for row, line in zip(rows, lines, strict=True) for _ in row]
        records, more = long_records(keys, values, numbers, step_column)
        return records, notes + more
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise LoadError(f"cannot read '{path}' as CSV: {err}. Export it again.") from err
    raw.columns = [str(c) for c in raw.columns]
    if _is_chart_header(list(raw.columns)):
        raw = _chart_to_history(raw, path)
    index = [c for c in raw.columns if c == "" or c.startswith("Unnamed: 0")]
    return csv_records(raw.drop(columns=index), step_column)


def load_export(path: Path, options: LoadOptions) -> RunLog:
    """Read a W&B history export (format ``"wandb_export"``)."""
    if path.stat().st_size == 0:
        raise LoadError(f"'{path}' is empty; a W&B history export was expected.")
    records, notes = _read_export(path, options.step_column)
    return RunLog(
        source=str(path),
        format="wandb_export",
        records=records,
        step_unit="step",
        notes=notes,
        files=(str(path),),
    )
