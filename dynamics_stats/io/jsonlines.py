"""Read JSON-lines metric logs: one JSON object per line.

The DeiT / MAE / DETR ``log.txt`` writes one object per epoch (``train_lr``, ``train_loss``,
``test_loss``, ``test_acc1``, ``epoch``, ``n_parameters``); other tools write ``.jsonl`` files
with a step key. Nested objects are flattened with ``"/"``; lists are ignored.

The helpers `read_log_text`, `parse_json_lines` and `rows_to_records` are shared with the
Hugging Face and LLaMA-Factory loaders, which read JSON rows too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, HParamValue, IntArray, Role, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._tables import EPOCH_COLUMNS, STEP_COLUMNS, empty_records

__all__ = [
    "SPEC",
    "dropped_field_notes",
    "flatten_rows",
    "parse_json_lines",
    "read_log_text",
    "rows_to_records",
]

Row = dict[str, object]

#: JSON's non-standard constants, parsed to marker strings so that pandas cannot confuse a
#: logged NaN with a missing cell; `rows_to_records` turns them back into floats.
_MARKS: Mapping[str, str] = {c: "\x00" + c for c in ("NaN", "Infinity", "-Infinity")}
_UNMARK: Mapping[str, float] = {
    "\x00NaN": math.nan,
    "\x00Infinity": math.inf,
    "\x00-Infinity": -math.inf,
}
_PARAM_COUNTS = ("n_parameters", "n_params", "num_params")
_SNIFF_BYTES = 65536
_MAX_LINES = 10


def read_log_text(path: Path) -> str:
    r"""Return the text of a log file, or raise `LoadError` if unreadable or empty.

    Line ends are kept as written, so that line numbers count ``"\n"`` as `wc -l` does.
    """
    try:  # newline="": a lone "\r" (progress bars) is not a line break, as in `wc -l`
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read()
    except OSError as err:
        raise LoadError(f"cannot read '{path}': {err}. Check the path and permissions.") from err
    if not text.strip():
        raise LoadError(
            f"'{path}' is empty: it holds no logged values. Check that the run wrote its log "
            "(or that you picked the right file)."
        )
    return text


def _mark(constant: str) -> str:
    return _MARKS[constant]


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
        rows = json.loads("[" + ",".join(s for _, s in numbered) + "]", parse_constant=_mark)
    except ValueError:
        rows = None
    if rows is not None and all(isinstance(r, dict) for r in rows):
        return rows, [i for i, _ in numbered], []
    rows, lines, bad = [], [], []
    for i, line in numbered:
        try:
            obj = json.loads(line, parse_constant=_mark)
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
        if present.isin(list(_UNMARK)).any():
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
    step_col = step_column or _find_key(columns, STEP_COLUMNS)
    epoch_col = _find_key(columns, EPOCH_COLUMNS)
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
        values = values.map(lambda v: _UNMARK.get(v, v) if isinstance(v, str) else v)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _unmark(values: np.ndarray) -> np.ndarray:
    """Turn NaN/Infinity markers back into floats; keep other text as text."""
    restored = [_UNMARK.get(v, v) if isinstance(v, str) else v for v in values]
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


def _find_key(keys: Iterable[str], names: Sequence[str]) -> str | None:
    lowered = {k.strip().lower(): k for k in keys}
    return next((lowered[n] for n in names if n in lowered), None)


def _param_counts(rows: list[Row]) -> dict[str, HParamValue]:
    """Move constant parameter counts (``n_parameters``...) out of the rows."""
    found: dict[str, HParamValue] = {}
    for key in _PARAM_COUNTS:
        values = {repr(row[key]) for row in rows if key in row}
        if len(values) != 1:
            continue
        for row in rows:
            value = row.pop(key, None)
            if isinstance(value, int | float | str | bool):
                found[key] = value
    return found


def _deit_hints(keys: set[str], step_unit: StepUnit) -> dict[str, Role]:
    """DeiT/MAE ``log.txt``: ``test_*`` is the per-epoch evaluation on the validation set."""
    if step_unit != "epoch" or not any(k.startswith("train_") for k in keys):
        return {}
    hints: dict[str, Role] = {}
    for key in keys:
        if key == "test_loss":
            hints[key] = "val_loss"
        elif key == "train_lr":
            hints[key] = "learning_rate"
    return hints


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


def _sniff(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    if b"\x00" in head:
        return False
    lines = [s for s in head.decode("utf-8", errors="replace").split("\n") if s.strip()]
    objects = []
    for line in lines[:2]:
        try:
            obj = json.loads(line)
        except ValueError:
            break
        if not isinstance(obj, dict):
            break
        objects.append(obj)
    if not objects or (path.suffix.lower() == ".json" and len(objects) < 2):
        return False
    return any(isinstance(v, int | float) and not isinstance(v, bool) for v in objects[0].values())


def _load(path: Path, options: LoadOptions) -> RunLog:
    text = read_log_text(path)
    rows, lines, notes = parse_json_lines(path, text)
    rows, lists = flatten_rows(rows)
    hparams = _param_counts(rows)
    keys: set[str] = set().union(*(row.keys() for row in rows))
    if options.step_column is not None and options.step_column not in keys:
        raise LoadError(
            f"step_column {options.step_column!r} is not a field of '{path}'; its fields are: "
            f"{', '.join(sorted(keys))}. Pass one of them, or leave step_column unset."
        )
    step_col = options.step_column or _find_key(keys, STEP_COLUMNS)
    epoch_col = _find_key(keys, EPOCH_COLUMNS)
    step_unit: StepUnit = "step" if step_col else "epoch" if epoch_col else "index"
    records, texts = rows_to_records(
        rows, lines, step_column=step_col or epoch_col, index_step=step_unit == "index"
    )
    if records.empty:
        raise LoadError(
            f"'{path}' holds JSON objects but no numeric field to read as a metric. "
            "Check that this is a metrics log."
        )
    notes += dropped_field_notes(path, lists, texts)
    return RunLog(
        source=str(path),
        format="jsonlines",
        records=records,
        step_unit=step_unit,
        hparams=hparams,
        role_hints=_deit_hints(keys, step_unit),
        notes=tuple(notes),
        files=(str(path),),
    )


SPEC = LoaderSpec(
    format="jsonlines",
    description="JSON-lines metric log, one object per line (DeiT/MAE/DETR log.txt, *.jsonl)",
    sniff=_sniff,
    load=_load,
)
