"""Sniff the header line of a delimited text table: `sniff_header` and `TableHeader`.

Cheap and never raising: used by the sniffers of the table, Keras and Ultralytics loaders,
and by `dynamics_stats.io._delimited` to find the header of the file it reads.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DELIMITERS",
    "SAMPLE_LINES",
    "SNIFF_BYTES",
    "TableHeader",
    "header_of",
    "normalise_newlines",
    "sniff_header",
    "split_fields",
]

DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
#: Bytes read to sniff a header, and to tell a binary file.
SNIFF_BYTES = 65536
#: Non-blank lines (header included) compared to pick the delimiter.
SAMPLE_LINES = 6


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


def split_fields(line: str, delimiter: str) -> list[str]:
    """Split one line as `csv` does, or plainly at each delimiter if its quoting is broken."""
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


def header_of(lines: Sequence[str]) -> TableHeader | None:
    """Return the header of a table's first lines, or None if they do not start a table.

    The delimiter is the one that splits the header into the most fields while splitting
    every sampled data line into as many (at least two fields); a header holding a number
    is not a header.
    """
    sample = [line for line in lines if line.strip()][:SAMPLE_LINES]
    if not sample or sample[0].lstrip()[:1] in ("{", "[", "<", "#"):
        return None
    header, data = sample[0], sample[1:]
    best: tuple[bool, int, str] | None = None
    for delimiter in DELIMITERS:
        n_fields = len(split_fields(header, delimiter))
        consistent = all(len(split_fields(line, delimiter)) == n_fields for line in data)
        if n_fields >= 2 and (best is None or (consistent, n_fields) > best[:2]):
            best = (consistent, n_fields, delimiter)
    if best is None:
        return None
    fields = tuple(f.strip() for f in split_fields(header, best[2]))
    if any(_is_number(f) for f in fields if f):
        return None
    numeric = bool(data) and any(_is_number(f.strip()) for f in split_fields(data[0], best[2]))
    return TableHeader(fields, best[2], numeric)


def normalise_newlines(text: str) -> str:
    r"""Turn ``"\r\n"`` and lone ``"\r"`` line ends into ``"\n"``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sniff_header(path: Path) -> TableHeader | None:
    """Read the header of a delimited text file cheaply (first 64 KB), or None.

    Returns None (never raises) for folders, unreadable or binary files, JSON, and text
    whose first line is not a delimited header of at least two names.
    """
    try:
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return None
    if b"\x00" in head:
        return None
    lines = normalise_newlines(head.decode("utf-8-sig", errors="replace")).split("\n")
    if len(head) == SNIFF_BYTES:
        lines = lines[:-1]
    return header_of(lines[: SAMPLE_LINES * 4])
