"""Parse JSON rows: one object per line, NaN/Infinity kept apart from missing values.

`parse_json_lines` reads JSON-lines text (skipping broken lines with a note) and marks
JSON's non-standard constants; `flatten_rows` flattens nested objects. Shared by the
JSON-lines, Hugging Face and LLaMA-Factory loaders; `dynamics_stats.io._json_records`
melts the rows into records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue

__all__ = [
    "MARKS",
    "UNMARK",
    "Row",
    "dropped_field_notes",
    "flatten_rows",
    "mark_constant",
    "parse_json_lines",
]

Row = dict[str, object]

#: JSON's non-standard constants, parsed to marker strings so that pandas cannot confuse a
#: logged NaN with a missing cell; `rows_to_records` turns them back into floats.
MARKS: Mapping[str, str] = {c: "\x00" + c for c in ("NaN", "Infinity", "-Infinity")}
UNMARK: Mapping[str, float] = {
    "\x00NaN": math.nan,
    "\x00Infinity": math.inf,
    "\x00-Infinity": -math.inf,
}
_MAX_LINES = 10


def mark_constant(constant: str) -> str:
    """Return the marker string of a JSON constant (``NaN``...), for ``parse_constant``."""
    return MARKS[constant]


def parse_json_lines(path: Path, text: str) -> tuple[list[Row], list[int], list[ValidationIssue]]:
    """Parse one JSON object per non-empty line.

    Parameters
    ----------
    path : pathlib.Path
        The file, for messages.
    text : str
        Its content.

    Returns
    -------
    (rows, lines, notes)
        The parsed objects, the 1-based line number of each, and notes on skipped lines: a
        bad last line is taken as cut off by a writer still running ("repaired"); a bad line
        elsewhere is skipped with a "warning".

    Raises
    ------
    LoadError
        If no line holds a JSON object.
    """
    numbered = [(i, line) for i, line in enumerate(text.split("\n"), start=1) if line.strip()]
    try:  # fast path: the whole file as one JSON array
        array = "[" + ",".join(s for _, s in numbered) + "]"
        rows = json.loads(array, parse_constant=mark_constant)
    except ValueError:
        rows = None
    if rows is not None and all(isinstance(r, dict) for r in rows):
        return rows, [i for i, _ in numbered], []
    rows, lines, bad = [], [], []
    for i, line in numbered:
        try:
            obj = json.loads(line, parse_constant=mark_constant)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            rows.append(obj)
            lines.append(i)
        else:
            bad.append(i)
    if not rows:
        raise LoadError(
            f"'{path}' holds no JSON object on any line (first bad line: {bad[0]}). "
            "Expected one JSON object per line; pass format=... if this is another format."
        )
    return rows, lines, _bad_line_notes(path, bad, numbered[-1][0])


def _bad_line_notes(path: Path, bad: list[int], last_line: int) -> list[ValidationIssue]:
    notes = []
    if bad and bad[-1] == last_line:
        bad = bad[:-1]
        notes.append(
            ValidationIssue(
                "truncated_last_line",
                "repaired",
                f"line {last_line} of '{path.name}' is cut off (the writer was probably still "
                "running); it was skipped.",
                n_affected=1,
                lines=(last_line,),
            )
        )
    if bad:
        notes.append(
            ValidationIssue(
                "unparseable_lines",
                "warning",
                f"{len(bad)} line(s) of '{path.name}' are not JSON objects and were skipped "
                f"(first: line {bad[0]}).",
                n_affected=len(bad),
                lines=tuple(bad[:_MAX_LINES]),
                hint="Check the file for interleaved output from another writer.",
            )
        )
    return notes


def flatten_rows(rows: list[Row]) -> tuple[list[Row], tuple[str, ...]]:
    """Flatten nested objects with ``"/"`` and drop list values.

    Returns
    -------
    (rows, dropped)
        The flat rows and the sorted names of the keys that held lists.
    """
    if not any(isinstance(v, dict | list) for row in rows for v in row.values()):
        return rows, ()
    dropped: set[str] = set()
    flat_rows = []
    for row in rows:
        flat: Row = {}
        _flatten_into(flat, "", row, dropped)
        flat_rows.append(flat)
    return flat_rows, tuple(sorted(dropped))


def _flatten_into(flat: Row, prefix: str, row: Mapping[str, object], dropped: set[str]) -> None:
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten_into(flat, name + "/", value, dropped)
        elif isinstance(value, list):
            dropped.add(name)
        else:
            flat[name] = value


def dropped_field_notes(
    path: Path, lists: Sequence[str], texts: Sequence[str]
) -> list[ValidationIssue]:
    """Info notes naming the fields ignored because they held lists or only text."""
    notes = []
    if lists:
        notes.append(
            ValidationIssue(
                "ignored_list_fields",
                "info",
                f"fields holding lists in '{path.name}' were ignored: {', '.join(lists)}.",
            )
        )
    if texts:
        notes.append(
            ValidationIssue(
                "ignored_text_fields",
                "info",
                f"fields holding only text in '{path.name}' were ignored: {', '.join(texts)}.",
            )
        )
    return notes
