"""Read PyTorch Lightning `CSVLogger` logs: ``metrics.csv`` and the ``hparams.yaml`` beside it.

Lightning writes one sparse row per logging call: ``step``, ``epoch`` and the metrics logged
at that call; every other cell is empty. A log folder looks like
``lightning_logs/version_N/{metrics.csv, hparams.yaml}``; the loader accepts the file, a
version folder, or a folder of version folders (the highest ``N`` is read and noted).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RECORD_COLUMNS, RunLog
from dynamics_stats.core.types import HParamValue
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._lightning import (
    HPARAMS_FILE,
    find_version_folder,
    lightning_role_hints,
    read_hparams_yaml,
)

__all__ = ["SPEC"]

METRICS_FILE = "metrics.csv"
_AXES = ("step", "epoch")
_NAN_WORDS = frozenset({"nan", "+nan", "-nan"})
_SNIFF_BYTES = 4096
_MAX_LINES = 10


def _resolve(path: Path) -> tuple[Path, tuple[ValidationIssue, ...]]:
    """Return the metrics file to read for a file or folder, and a note on a picked version."""
    if path.is_file():
        return path, ()
    if (path / METRICS_FILE).is_file():
        return path / METRICS_FILE, ()
    for folder in (path, path / "lightning_logs"):
        found = find_version_folder(folder, marker=METRICS_FILE) if folder.is_dir() else None
        if found is not None:
            return found[0] / METRICS_FILE, found[1]
    raise LoadError(
        f"no Lightning metrics.csv in '{path}': expected '{METRICS_FILE}' there or in its "
        "version_N sub-folders. Pass the metrics.csv file or its version folder."
    )


def _header_fields(path: Path) -> list[str] | None:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head or b"\x00" in head:
        return None
    try:
        first = head.decode("utf-8-sig").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return None
    return [field.strip() for field in next(csv.reader([first]), [])]


def _is_blank(path: Path) -> bool:
    with path.open("rb") as handle:
        return not handle.read(_SNIFF_BYTES).strip()


def _sniff(path: Path) -> bool:
    """Tell whether ``path`` is a Lightning ``metrics.csv`` or a log folder holding one."""
    try:
        if path.is_dir():
            target, _ = _resolve(path)
        elif path.suffix.lower() == ".csv":
            target = path
        else:
            return False
        if target.name == METRICS_FILE and _is_blank(target):
            return True  # an empty metrics.csv: let the loader say it is empty
        fields = _header_fields(target)
    except (OSError, LoadError):
        return False
    return fields is not None and all(axis in fields for axis in _AXES)


def _split_lines(text: str) -> list[str]:
    """Split lines the way pandas' C parser does (LF, CRLF or CR)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _field_counts(lines: list[str]) -> np.ndarray:
    """Count the fields of each line (0 for a blank line)."""
    if not any('"' in line for line in lines):
        return np.fromiter(
            (line.count(",") + 1 if line.strip() else 0 for line in lines),
            dtype=np.int64,
            count=len(lines),
        )
    rows = csv.reader(line if line.strip() else "" for line in lines)
    return np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(lines))


def _is_partial(line: str) -> bool:
    """Whether a line cut by an unfinished write ends in a partial number."""
    for cell in next(csv.reader([line]), []):
        text = cell.strip()
        if text:
            try:
                float(text)
            except ValueError:
                return True
    return False


def _read_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise LoadError(
            f"'{path}' is not a text CSV file (byte {err.start} is not UTF-8). "
            "Pass the metrics.csv written by Lightning's CSVLogger."
        ) from err
    except OSError as err:
        raise LoadError(f"cannot read '{path}': {err}. Check the path and permissions.") from err
    if not text.strip():
        raise LoadError(
            f"'{path}' is empty: no header and no rows. The run may not have logged yet; "
            "wait for its first logging step or pass another file."
        )
    return text


def _last_line_note(
    path: Path,
    text: str,
    lines: list[str],
    counts: np.ndarray,
    good: np.ndarray,
) -> ValidationIssue | None:
    """Judge the last line; a line cut short is marked bad (in place) and noted as repaired."""
    n_fields = len(next(csv.reader([lines[0]])))
    last = len(lines)
    open_end = not text.endswith(("\n", "\r"))
    if counts.size == 0:
        return None
    if 0 < counts[-1] < n_fields or (good[-1] and open_end and _is_partial(lines[-1])):
        good[-1] = False
        counts[-1] = 0  # skipped here, not reported again as malformed
        return ValidationIssue(
            code="truncated_last_line",
            level="repaired",
            message=f"skipped the incomplete last line {last} of '{path}' "
            "(the run was probably still writing it).",
            n_affected=1,
            lines=(last,),
        )
    if good[-1] and open_end:
        return ValidationIssue(
            code="unterminated_last_line",
            level="warning",
            message=f"the last line {last} of '{path}' has no line end: the run may still be "
            "writing it, so its last value may be cut short; it was kept.",
            n_affected=1,
            lines=(last,),
        )
    return None


def _good_lines(
    path: Path, text: str, lines: list[str]
) -> tuple[np.ndarray, list[ValidationIssue]]:
    """Return the 1-based numbers of well-formed data lines, and notes on the others."""
    n_fields = len(next(csv.reader([lines[0]])))
    counts = _field_counts(lines[1:])
    numbers = np.arange(2, len(lines) + 1)
    good = counts == n_fields
    last_note = _last_line_note(path, text, lines, counts, good)
    notes = [last_note] if last_note is not None else []
    bad = numbers[~good & (counts > 0)].tolist()
    if bad:
        shown = ", ".join(str(n) for n in bad[:_MAX_LINES]) + (", ..." if len(bad) > 10 else "")
        notes.append(
            ValidationIssue(
                code="malformed_lines",
                level="warning",
                message=f"skipped {len(bad)} line(s) of '{path}' whose number of fields is not "
                f"the header's {n_fields} (lines {shown}).",
                n_affected=len(bad),
                lines=tuple(bad[:_MAX_LINES]),
                hint="The file may have been edited, or written by two processes at once.",
            )
        )
    return numbers[good], notes


def _text_values(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Presence mask and values of a column pandas left as text (it holds a non-number)."""
    stripped = cells.astype(object).where(cells.notna(), "").astype(str).str.strip()
    present = stripped.ne("").to_numpy()
    kept = stripped[present]
    numbers = pd.to_numeric(kept, errors="coerce")
    failed = numbers.isna() & ~kept.str.lower().isin(_NAN_WORDS)
    if not failed.any():
        return present, numbers.to_numpy(dtype=float)
    values = numbers.astype(object)
    values[failed] = kept[failed]
    return present, values.to_numpy(dtype=object)


def _records(table: pd.DataFrame, lines: np.ndarray) -> pd.DataFrame:
    """Melt the sparse table into records, row by row in source order."""
    axes = {
        name: pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
        if name in table
        else np.full(len(table), np.nan)
        for name in _AXES
    }
    parts = []
    for name in table.columns:
        if name in _AXES:
            continue
        column = table[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and column.dtype != bool:
            present = column.notna().to_numpy()
            values: np.ndarray = column.to_numpy(dtype=float)[present]
        else:
            present, values = _text_values(column)
        if present.any():
            parts.append(
                pd.DataFrame(
                    {
                        "metric": str(name),
                        "step": axes["step"][present],
                        "epoch": axes["epoch"][present],
                        "wall_time": np.nan,
                        "value": values,
                        "line": lines[present],
                    }
                )
            )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
    records = pd.concat(parts, ignore_index=True)
    return records.sort_values("line", kind="stable", ignore_index=True)


def _read_table(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[ValidationIssue]]:
    text = _read_text(path)
    lines = _split_lines(text)
    numbers, notes = _good_lines(path, text, lines)
    body = "\n".join([lines[0], *(lines[n - 1] for n in numbers)])
    try:
        table = pd.read_csv(
            io.StringIO(body), keep_default_na=False, na_values=[""], low_memory=False
        )
    except (pd.errors.ParserError, ValueError) as err:
        raise LoadError(f"cannot parse '{path}' as CSV: {err}.") from err
    table.columns = [str(c).strip() for c in table.columns]
    if "step" not in table.columns:
        raise LoadError(
            f"'{path}' has no 'step' column (columns: {', '.join(table.columns[:_MAX_LINES])}), "
            "so it was not written by Lightning's CSVLogger. Pass format='table' instead."
        )
    if table.empty:
        raise LoadError(
            f"'{path}' is empty: it has a header but no complete row. Wait for the run to "
            "log, or pass another file."
        )
    return table, numbers, notes


def _load(path: Path, options: LoadOptions) -> RunLog:
    """Read a Lightning CSVLogger log (file, version folder or folder of versions)."""
    target, version_notes = _resolve(path)
    table, numbers, row_notes = _read_table(target)
    files = [str(target)]
    hparams: dict[str, HParamValue] = {}
    hparams_notes: tuple[ValidationIssue, ...] = ()
    if (target.parent / HPARAMS_FILE).is_file():
        hparams, hparams_notes = read_hparams_yaml(target.parent / HPARAMS_FILE)
        files.append(str(target.parent / HPARAMS_FILE))
    return RunLog(
        source=str(path),
        format="lightning_csv",
        records=_records(table, numbers),
        step_unit="step",
        hparams=hparams,
        role_hints=lightning_role_hints(c for c in table.columns if c not in _AXES),
        notes=(*version_notes, *row_notes, *hparams_notes),
        files=tuple(files),
    )


SPEC = LoaderSpec(
    format="lightning_csv",
    description="PyTorch Lightning CSVLogger metrics.csv (+ hparams.yaml), file or log folder",
    sniff=_sniff,
    load=_load,
)
