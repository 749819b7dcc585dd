"""Read a delimited text table (CSV, TSV, ``;`` or ``|``) as cells: `read_delimited`.

Shared by the table, Keras and Ultralytics loaders. Broken lines (a last line cut short by
a writer still running, lines with more values than the header) are skipped with a note.
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
from dynamics_stats.core.types import FloatArray
from dynamics_stats.io._cells import Cells, as_float, typed_cells, unique_names
from dynamics_stats.io._delimited_header import (
    SAMPLE_LINES,
    SNIFF_BYTES,
    TableHeader,
    header_of,
    normalise_newlines,
    split_fields,
)

__all__ = ["DelimitedTable", "numbers_of", "parse_columns", "read_delimited"]

_MAX_LINES = 10


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


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except IsADirectoryError as err:
        raise LoadError(f"'{path}' is a folder; this loader reads one table file.") from err
    except OSError as err:
        raise LoadError(f"cannot read '{path}': {err}. Check the path.") from err
    if b"\x00" in raw[:SNIFF_BYTES]:
        raise LoadError(f"'{path}' is a binary file, not a delimited text table.")
    text = normalise_newlines(raw.decode("utf-8-sig", errors="replace"))
    if not text.strip():
        raise LoadError(f"'{path}' is empty: it has no header line and no rows.")
    return text


def _widest(lines: list[str], delimiter: str) -> int:
    """Return the largest number of fields on one line, with or without quoting."""
    counts = pd.Series(lines, dtype=object).str.count(re.escape(delimiter)).to_numpy()
    widest = int(counts.max()) + 1
    if any('"' in line for line in lines):
        widest = max(widest, *(len(split_fields(line, delimiter)) for line in lines))
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
    header = header_of(lines[start : start + SAMPLE_LINES * 4])
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
    last = body[-1] if cut and body else ""  # only a last line without a newline can be cut
    if last.strip() and len(split_fields(last, header.delimiter)) < n_fields:
        body[-1] = ""
        notes.append(_line_note("truncated_line", path, [len(lines)], n_fields))
    if not any(line.strip() for line in body):
        raise LoadError(
            f"'{path}' has a header ({n_fields} columns: {', '.join(fields[:8])}) but no "
            "data rows. Load it again once the run has logged a row."
        )
    decimal = _decimal_mark(body, header.delimiter)
    frame = _parse_rows(path, body, fields, delimiter=header.delimiter, decimal=decimal)
    rows = np.arange(first + 1, first + 1 + len(frame), dtype=np.int64)
    if len(frame) != len(body):  # quoted cells spanning lines: numbering unknown
        rows = np.zeros(len(frame), dtype=np.int64)
    bad = _beyond_header(frame, n_fields)
    if bad.any():  # lines with values beyond the header: skipped
        notes.append(_line_note("malformed_lines", path, rows[bad].tolist(), n_fields))
        frame, rows = frame[~bad], rows[~bad]
    frame = frame.iloc[:, :n_fields].reset_index(drop=True)
    return DelimitedTable(frame, rows, decimal, tuple(notes))


def _decimal_mark(body: list[str], delimiter: str) -> str:
    """``","`` when a table not separated by commas writes numbers with a decimal comma."""
    sample = "\n".join(body[:50])
    comma = re.search(r"\d,\d", sample) and not re.search(r"\d\.\d", sample)
    return "," if delimiter != "," and comma else "."


def _parse_rows(
    path: Path, body: list[str], fields: list[str], *, delimiter: str, decimal: str
) -> pd.DataFrame:
    """Parse the rows into one column per field plus spare columns for extra values.

    One spare column takes a trailing delimiter or one extra value; wider lines fail the
    fast parse and are measured first.
    """
    n_fields = len(fields)
    frame = _parse_body(body, delimiter, unique_names([*fields, ""]), decimal)
    if frame is None:
        width = max(n_fields + 1, _widest(body, delimiter))
        names = unique_names(fields + [""] * (width - n_fields))
        frame = _parse_body(body, delimiter, names, decimal, lenient=True)
    if frame is None:
        raise LoadError(f"cannot parse '{path}' as a delimited table; check its quoting.")
    return frame


def _beyond_header(frame: pd.DataFrame, n_fields: int) -> NDArray[np.bool_]:
    """Rows holding a value in a column beyond the header's ``n_fields``."""
    bad = np.zeros(len(frame), dtype=bool)
    for _, cells in frame.iloc[:, n_fields:].items():
        present = cells.notna().to_numpy()
        if present.any() and not pd.api.types.is_numeric_dtype(cells):
            present = present & cells.astype(str).str.strip().ne("").to_numpy()
        bad |= present
    return bad


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
