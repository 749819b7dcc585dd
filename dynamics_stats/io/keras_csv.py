r"""Keras ``CSVLogger`` files and similar per-epoch history CSVs.

``keras.callbacks.CSVLogger`` writes one row per epoch with ``csv.DictWriter``: the
header is ``epoch`` then the sorted metric names (``accuracy, loss, val_accuracy,
val_loss``, ``learning_rate`` or ``lr`` with a scheduler), the epoch is 0-based, rows end
with ``\r\n``, the separator is ``,`` unless set, and a metric missing at an epoch is
written ``NA``. ``pandas.DataFrame(history.history).to_csv()`` writes an unnamed index
column first and NaN as an empty cell. Hand-written histories may have a 1-based
``Epoch`` column, or none.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, Role, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._cells import Cells, cells_to_records, drop_text_columns, find_column
from dynamics_stats.io._delimited import DelimitedTable, numbers_of, parse_columns, read_delimited
from dynamics_stats.io._delimited_header import sniff_header
from dynamics_stats.io._tables import EPOCH_COLUMNS, STEP_COLUMNS

__all__ = ["SPEC"]

_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".log"})
#: Header names (lower-cased) of the unnamed index column pandas writes.
_INDEX_NAMES = frozenset({"", "unnamed: 0"})
_TRAIN_LOSS = frozenset({"loss", "trainloss", "trainingloss"})
_VAL_LOSS = frozenset({"valloss", "validationloss"})
_LEARNING_RATE = frozenset({"lr", "learningrate"})
_MAX_LINES = 10


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _sniff(path: Path) -> bool:
    if path.suffix.lower() not in _SUFFIXES:
        return False
    header = sniff_header(path)
    if header is None or (path.suffix.lower() in (".txt", ".log") and not header.numeric_data):
        return False
    lowered = [f.lower() for f in header.fields]
    if any(f in STEP_COLUMNS for f in lowered):
        return False  # Lightning (step + epoch) and step-indexed tables are read elsewhere
    if any(f.startswith(("train/", "metrics/", "val/")) for f in lowered):
        return False  # Ultralytics results.csv and wandb-style exports
    return any("loss" in f for f in lowered)


def role_hints(columns: list[str]) -> dict[str, Role]:
    """Roles the Keras convention gives to history columns.

    ``loss`` is the training loss and ``val_loss`` the validation loss; ``lr`` or
    ``learning_rate`` is the learning rate; a metric ``X`` logged beside ``val_X`` is a
    training metric and ``val_X`` its validation counterpart. Names are compared without
    case or punctuation (``Loss``/``ValLoss`` as in hand-written histories).
    """
    normed = {_norm(c): c for c in reversed(columns)}
    hints: dict[str, Role] = {}
    for column in columns:
        key = _norm(column)
        if key in _TRAIN_LOSS:
            hints[column] = "train_loss"
        elif key in _VAL_LOSS:
            hints[column] = "val_loss"
        elif key in _LEARNING_RATE:
            hints[column] = "learning_rate"
        elif "val" + key in normed and "loss" not in key:
            hints[column] = "train_metric"
            hints[normed["val" + key]] = "val_metric"
    return hints


def _empty_as_nan(
    table_cells: dict[str, Cells],
    blank_rows: NDArray[np.bool_],
    path: Path,
    lines: NDArray[np.int64],
) -> tuple[dict[str, Cells], tuple[ValidationIssue, ...]]:
    """Read empty cells of a pandas-written (dense) history as NaN, as pandas wrote them."""
    out: dict[str, Cells] = {}
    affected: list[int] = []
    names = []
    for name, cells in table_cells.items():
        empty = ~cells.present & ~blank_rows
        if cells.present.any() and empty.any():
            values = cells.values.copy()
            values[empty] = np.nan
            cells = Cells(values, cells.present | empty, cells.text)
            affected.extend(int(x) for x in lines[empty])
            names.append(name)
        out[name] = cells
    if not names:
        return out, ()
    note = ValidationIssue(
        code="empty_cells_as_nan",
        level="info",
        message=(
            f"'{path}' was written by pandas, which writes NaN as an empty cell: "
            f"{len(affected)} empty cell(s) in {', '.join(repr(n) for n in names)} were read "
            "as NaN."
        ),
        n_affected=len(affected),
        lines=tuple(sorted(set(affected))[:_MAX_LINES]),
    )
    return out, (note,)


def _position(
    table: DelimitedTable, path: Path, options: LoadOptions
) -> tuple[FloatArray, FloatArray, StepUnit, tuple[str | None, ...]]:
    """Return step, epoch, step unit and the position columns (not metrics)."""
    columns = [str(c) for c in table.frame.columns]
    index_col = columns[0] if columns[0].strip().lower() in _INDEX_NAMES else None
    epoch_col = find_column(columns, EPOCH_COLUMNS)
    step_col = options.step_column
    if step_col is not None and step_col not in columns:
        raise LoadError(
            f"step column {step_col!r} is not in '{path}' (columns: "
            f"{', '.join(repr(c) for c in columns)}). Pass one of these as options.step_column."
        )
    epoch = numbers_of(table, epoch_col)
    used = (index_col, epoch_col, step_col)
    if step_col is not None:
        return numbers_of(table, step_col), epoch, "step", used
    if epoch_col is not None:
        return epoch, epoch, "epoch", used
    if index_col is not None:
        return numbers_of(table, index_col), epoch, "index", used
    return np.arange(len(table.frame), dtype=float), epoch, "index", used


def _load(path: Path, options: LoadOptions) -> RunLog:
    table = read_delimited(path)
    columns = [str(c) for c in table.frame.columns]
    step, epoch, unit, used = _position(table, path, options)
    n_rows = len(table.frame)
    cells = parse_columns(table, [c for c in columns if c not in used])
    notes = table.notes
    if used[0] is not None:  # written by pandas
        blank_rows = table.frame.isna().all(axis=1).to_numpy()
        cells, nan_notes = _empty_as_nan(cells, blank_rows, path, table.lines)
        notes += nan_notes
    cells, dropped = drop_text_columns(cells, f"'{path}'")
    if not cells:
        raise LoadError(
            f"'{path}' has no numeric metric column (columns: "
            f"{', '.join(repr(c) for c in columns)}). A history CSV needs e.g. 'loss'."
        )
    records = cells_to_records(
        cells, step=step, epoch=epoch, wall_time=np.full(n_rows, np.nan), lines=table.lines
    )
    return RunLog(
        source=str(path),
        format="keras_csv",
        records=records,
        step_unit=unit,
        role_hints=role_hints(list(cells)),
        notes=notes + dropped,
        files=(str(path),),
    )


SPEC = LoaderSpec(
    format="keras_csv",
    description="Keras CSVLogger or per-epoch history CSV (epoch, loss, val_loss, ...)",
    sniff=_sniff,
    load=_load,
)
