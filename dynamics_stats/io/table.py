"""Generic wide tables: delimited text (CSV, TSV, ``;`` or ``|``) and Parquet files.

One column per metric, one row per logging event; cells may be empty (not logged at that
row). The reading helpers here (`sniff_header`, `read_delimited`, `parse_columns`) are shared
with the Keras and Ultralytics loaders.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._tables import EPOCH_COLUMNS, STEP_COLUMNS, TIME_COLUMNS
from dynamics_stats.io.dataframe import (
    Cells,
    as_float,
    cells_to_records,
    drop_text_columns,
    find_column,
    frame_to_log,
    typed_cells,
    unique_names,
)

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

DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
_TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
_SNIFF_BYTES = 65536
_SAMPLE_LINES = 6
_MAX_LINES = 10


@dataclass(frozen=True, slots=True)
class TableHeader:
    """The header line of a delimited table, as sniffed.

    Parameters
    ----------
    fields : tuple of str
        Column names, stripped of surrounding spaces.
    delimiter : str
        One of `DELIMITERS`.
    numeric_data : bool
        Whether the first data line holds at least one number (False with no data line).
    """

    fields: tuple[str, ...]
    delimiter: str
    numeric_data: bool


@dataclass(frozen=True, slots=True)
class DelimitedTable:
    """A delimited text table read as text cells.

    Parameters
    ----------
    frame : pandas.DataFrame
        One str column per header field (unique names, stripped), cells as written.
    lines : numpy.ndarray of int
        1-based source line of each row (0 where unknown).
    decimal : str
        ``","`` when numbers use a decimal comma, else ``"."``.
    notes : tuple of ValidationIssue
        Lines skipped while reading (truncated or malformed).
    """

    frame: pd.DataFrame
    lines: NDArray[np.int64]
    decimal: str
    notes: tuple[ValidationIssue, ...]


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header_of(lines: Sequence[str]) -> TableHeader | None:
    sample = [line for line in lines if line.strip()][:_SAMPLE_LINES]
    if not sample or sample[0].lstrip()[:1] in ("{", "[", "<", "#"):
        return None
    header, data = sample[0], sample[1:]
    best: tuple[bool, int, str] | None = None
    for delimiter in DELIMITERS:
        n_fields = len(_split(header, delimiter))
        consistent = all(len(_split(line, delimiter)) == n_fields for line in data)
        if n_fields >= 2 and (best is None or (consistent, n_fields) > best[:2]):
            best = (consistent, n_fields, delimiter)
    if best is None:
        return None
    fields = tuple(f.strip() for f in _split(header, best[2]))
    if any(_is_number(f) for f in fields if f):
        return None
    numeric = bool(data) and any(_is_number(f.strip()) for f in _split(data[0], best[2]))
    return TableHeader(fields, best[2], numeric)


def sniff_header(path: Path) -> TableHeader | None:
    """Read the header of a delimited text file cheaply (first 64 KB), or None.

    Returns None (never raises) for folders, unreadable or binary files, JSON, and text
    whose first line is not a delimited header of at least two names.
    """
    try:
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return None
    if b"\x00" in head:
        return None
    lines = _normalise(head.decode("utf-8-sig", errors="replace")).split("\n")
    if len(head) == _SNIFF_BYTES:
        lines = lines[:-1]
    return _header_of(lines[: _SAMPLE_LINES * 4])


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except IsADirectoryError as err:
        raise LoadError(f"'{path}' is a folder; this loader reads one table file.") from err
    except OSError as err:
        raise LoadError(f"cannot read '{path}': {err}. Check the path.") from err
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise LoadError(f"'{path}' is a binary file, not a delimited text table.")
    text = _normalise(raw.decode("utf-8-sig", errors="replace"))
    if not text.strip():
        raise LoadError(f"'{path}' is empty: it has no header line and no rows.")
    return text


def _widest(lines: list[str], delimiter: str) -> int:
    """Return the largest number of fields on one line, with or without quoting."""
    counts = pd.Series(lines, dtype=object).str.count(re.escape(delimiter)).to_numpy()
    widest = int(counts.max()) + 1
    if any('"' in line for line in lines):
        widest = max(widest, *(len(_split(line, delimiter)) for line in lines))
    return widest


def _line_note(code: str, path: Path, numbers: list[int], n_fields: int) -> ValidationIssue:
    shown = ", ".join(str(n) for n in numbers[:_MAX_LINES])
    if code == "truncated_line":
        what = f"the last line ({shown}) of '{path}' is cut short (a file still being written?)"
        hint = "Load the file again once the run has finished writing it."
    else:
        what = f"{len(numbers)} line(s) of '{path}' have more than {n_fields} values ({shown})"
        hint = "Check the delimiter and the quoting of these lines."
    return ValidationIssue(
        code=code,
        level="repaired" if code == "truncated_line" else "warning",
        message=f"{what}; skipped.",
        n_affected=len(numbers),
        lines=tuple(numbers[:_MAX_LINES]),
        hint=hint,
    )


def _split_header(path: Path, lines: list[str]) -> tuple[TableHeader, list[str], int]:
    """Return the header, its fields as written and the 0-based index of the first row."""
    start = next(i for i, line in enumerate(lines) if line.strip())
    header = _header_of(lines[start : start + _SAMPLE_LINES * 4])
    if header is None:
        raise LoadError(
            f"'{path}' line {start + 1} is not a delimited header of column names: got "
            f"{lines[start][:80]!r}. Give the table a header line such as 'epoch,loss'."
        )
    reader = csv.reader(iter(lines[start:]), delimiter=header.delimiter)
    try:
        fields = next(reader)
    except csv.Error as err:
        raise LoadError(f"cannot read the header of '{path}' (line {start + 1}): {err}.") from err
    return header, fields, start + reader.line_num


def read_delimited(path: Path) -> DelimitedTable:
    """Read a delimited text table, skipping broken lines with a note.

    Parameters
    ----------
    path : pathlib.Path
        A CSV/TSV file with one header line.

    Returns
    -------
    DelimitedTable
        The cells (numbers, or text where a column holds text; NaN where empty), the
        source line of each row and notes. Parse the cells with `parse_columns`.

    Raises
    ------
    LoadError
        If the file cannot be read, is empty or binary, has no delimited header, or has
        a header but no data rows.
    """
    lines = _read_text(path).split("\n")
    cut = lines[-1] != ""  # no newline at the end: the last line may be cut short
    if not cut:
        lines.pop()
    header, fields, first = _split_header(path, lines)
    body, n_fields, notes = lines[first:], len(fields), []
    if cut and body and body[-1].strip() and len(_split(body[-1], header.delimiter)) < n_fields:
        body[-1] = ""
        notes.append(_line_note("truncated_line", path, [len(lines)], n_fields))
    if not any(line.strip() for line in body):
        raise LoadError(
            f"'{path}' has a header ({n_fields} columns: {', '.join(fields[:8])}) but no "
            "data rows. Load it again once the run has logged a row."
        )
    sample = "\n".join(body[:50])
    comma = re.search(r"\d,\d", sample) and not re.search(r"\d\.\d", sample)
    decimal = "," if header.delimiter != "," and comma else "."
    # One spare column takes a trailing delimiter or one extra value; wider lines fail the
    # fast parse and are measured first.
    names = unique_names([*fields, ""])
    frame = _parse_body(body, header.delimiter, names, decimal)
    if frame is None:
        width = max(n_fields + 1, _widest(body, header.delimiter))
        names = unique_names(fields + [""] * (width - n_fields))
        frame = _parse_body(body, header.delimiter, names, decimal, lenient=True)
    if frame is None:
        raise LoadError(f"cannot parse '{path}' as a delimited table; check its quoting.")
    rows = np.arange(first + 1, first + 1 + len(frame), dtype=np.int64)
    if len(frame) != len(body):  # quoted cells spanning lines: numbering unknown
        rows = np.zeros(len(frame), dtype=np.int64)
    bad = np.zeros(len(frame), dtype=bool)
    for _, cells in frame.iloc[:, n_fields:].items():
        present = cells.notna().to_numpy()
        if present.any() and not pd.api.types.is_numeric_dtype(cells):
            present = present & cells.astype(str).str.strip().ne("").to_numpy()
        bad |= present
    if bad.any():  # lines with values beyond the header: skipped
        notes.append(_line_note("malformed_lines", path, rows[bad].tolist(), n_fields))
        frame, rows = frame[~bad], rows[~bad]
    frame = frame.iloc[:, :n_fields].reset_index(drop=True)
    return DelimitedTable(frame, rows, decimal, tuple(notes))


def _parse_body(
    body: list[str], delimiter: str, names: list[str], decimal: str, *, lenient: bool = False
) -> pd.DataFrame | None:
    """Parse rows with pandas' C reader: numbers typed, empty cells NaN, other text kept.

    ``names`` must be at least as many as the fields of the widest line (else pandas would
    turn the first fields into an index). Returns None if the quoting is broken or a line
    has more fields; ``lenient`` retries with quote characters read as text.
    """
    text = "\n".join(body) + "\n"
    for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE) if lenient else (csv.QUOTE_MINIMAL,):
        try:
            return pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                header=None,
                names=names,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
                decimal=decimal,
                quoting=quoting,
                engine="c",
            )
        except pd.errors.ParserError:
            continue
    return None


def parse_columns(table: DelimitedTable, names: Sequence[str]) -> dict[str, Cells]:
    """Parse the named columns of a table into `Cells`."""
    return {n: typed_cells(table.frame[n], decimal=table.decimal) for n in names}


def numbers_of(table: DelimitedTable, name: str | None) -> FloatArray:
    """Return a column as floats (NaN where empty or not a number), or all NaN if None."""
    if name is None:
        return np.full(len(table.frame), np.nan)
    return as_float(table.frame[name], decimal=table.decimal)


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


def _load_table(path: Path, options: LoadOptions) -> RunLog:
    table = read_delimited(path)
    columns = [str(c) for c in table.frame.columns]
    step_col = options.step_column or find_column(columns, STEP_COLUMNS)
    if step_col is not None and step_col not in columns:
        raise LoadError(
            f"step column {step_col!r} is not in '{path}' (columns: "
            f"{', '.join(repr(c) for c in columns)}). Pass one of these as options.step_column."
        )
    epoch_col = find_column(columns, EPOCH_COLUMNS)
    time_col = find_column(columns, TIME_COLUMNS)
    wall = _wall_time(table, time_col)
    if wall is None:
        time_col, wall = None, numbers_of(table, None)
    epoch = numbers_of(table, epoch_col)
    unit: StepUnit
    if step_col is not None:
        step, unit = numbers_of(table, step_col), "step"
    elif epoch_col is not None:
        step, unit = epoch, "epoch"
    else:
        step, unit = np.arange(len(table.frame), dtype=float), "index"
    axis = {step_col, epoch_col, time_col}
    cells = parse_columns(table, [c for c in columns if c not in axis])
    cells, dropped = drop_text_columns(cells, f"'{path}'")
    if not cells:
        raise LoadError(
            f"'{path}' has no numeric metric column (columns: "
            f"{', '.join(repr(c) for c in columns)}). A table needs one column per metric."
        )
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
