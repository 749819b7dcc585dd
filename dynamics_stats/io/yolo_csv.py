"""Ultralytics ``results.csv`` (YOLOv5 and YOLOv8/11), one row per epoch.

Columns: ``epoch`` (1-based), optionally ``time`` (seconds since the start), the train
loss components ``train/box_loss, train/cls_loss, train/dfl_loss`` (YOLOv5:
``train/obj_loss``; segmentation adds ``seg_loss``), validation metrics ``metrics/*``, the
matching ``val/*_loss`` components and one learning rate per optimizer parameter group
(``lr/pg0..2``; YOLOv5 ``x/lr0..2``). Older versions pad the header and cells with spaces.
``args.yaml`` beside the file holds the training arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue, Role, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._cells import Cells, cells_to_records, drop_text_columns, find_column
from dynamics_stats.io._delimited import numbers_of, parse_columns, read_delimited
from dynamics_stats.io._delimited_header import sniff_header
from dynamics_stats.io._tables import EPOCH_COLUMNS, TIME_COLUMNS

__all__ = ["SPEC"]

_LR_GROUP = re.compile(r"^(?:lr/pg|x/lr)(\d+)$")


def _sniff(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    header = sniff_header(path)
    if header is None:
        return False
    fields = [f.lower() for f in header.fields]
    has_train_loss = any(f.startswith("train/") and "loss" in f for f in fields)
    has_yolo_column = any(f.startswith(("metrics/", "lr/pg", "x/lr")) for f in fields)
    return "epoch" in fields and has_train_loss and has_yolo_column


def _components(names: Iterable[str], prefix: str) -> list[str]:
    return [c for c in names if c.startswith(f"{prefix}/") and c.endswith("_loss")]


def _add_totals(
    cells: dict[str, Cells], path: Path
) -> tuple[dict[str, Cells], tuple[ValidationIssue, ...]]:
    """Add ``train/loss`` and ``val/loss``: the sum of the loss components at each row."""
    notes = []
    for prefix in ("train", "val"):
        total, parts = f"{prefix}/loss", _components(cells, prefix)
        if not parts or total in cells:
            continue
        usable = np.logical_and.reduce([cells[p].present & ~cells[p].text for p in parts])
        summed = np.zeros(len(usable))
        for part in parts:
            summed += np.where(usable, cells[part].values, 0.0).astype(float)
        summed[~usable] = np.nan
        cells[total] = Cells(summed, usable, np.zeros(len(usable), dtype=bool))
        notes.append(
            ValidationIssue(
                code="derived_total_loss",
                level="info",
                message=(
                    f"'{total}' in '{path}' was derived as the sum of "
                    f"{', '.join(parts)} at the {int(usable.sum())} row(s) where all of them "
                    "hold a number (NaN if any is NaN)."
                ),
                metric=total,
                n_affected=int(usable.sum()),
            )
        )
    return cells, tuple(notes)


def role_hints(columns: list[str]) -> dict[str, Role]:
    """Roles Ultralytics' column names carry.

    ``train/loss`` and ``val/loss`` (native, or derived totals) are the train and
    validation losses; when a total exists, its components (``train/box_loss``...) are
    ``"other"`` so that the total is the one primary loss (the components stay in the
    records under their names). ``metrics/*`` are computed on the validation set. Of the
    per-group learning rates, group 1 (weights with decay; group 0 holds the biases, whose
    warm-up starts high) is the learning rate, the other groups ``"other"``.
    """
    hints: dict[str, Role] = {}
    totals: tuple[tuple[str, Role], ...] = (("train", "train_loss"), ("val", "val_loss"))
    for prefix, role in totals:
        if f"{prefix}/loss" in columns:
            hints[f"{prefix}/loss"] = role
            hints.update(dict.fromkeys(_components(columns, prefix), "other"))
    hints.update({c: "val_metric" for c in columns if c.startswith("metrics/")})
    groups = {c: int(m.group(1)) for c in columns if (m := _LR_GROUP.match(c))}
    if groups:
        main = 1 if 1 in groups.values() else min(groups.values())
        hints.update({c: "learning_rate" if g == main else "other" for c, g in groups.items()})
    return hints


def _scalar(value: object) -> HParamValue:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _flatten(data: dict[object, object], prefix: str = "") -> dict[str, HParamValue]:
    flat: dict[str, HParamValue] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif not isinstance(value, (list, tuple, set)):
            flat[name] = _scalar(value)
    return flat


def read_args(path: Path) -> tuple[dict[str, HParamValue], tuple[ValidationIssue, ...]]:
    """Read an Ultralytics ``args.yaml`` (``yaml.safe_load``), scalars only, dotted keys.

    An unreadable file gives a warning note, not an error.
    """
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError) as err:
        note = ValidationIssue(
            code="hparams_unreadable",
            level="warning",
            message=f"'{path}' could not be read as YAML ({err}); hyper-parameters left empty.",
        )
        return {}, (note,)
    return (_flatten(data) if isinstance(data, dict) else {}), ()


def _load(path: Path, options: LoadOptions) -> RunLog:
    table = read_delimited(path)
    columns = [str(c) for c in table.frame.columns]
    epoch_col = find_column(columns, EPOCH_COLUMNS)
    time_col = find_column(columns, TIME_COLUMNS)
    epoch = numbers_of(table, epoch_col)
    unit: StepUnit = "epoch" if epoch_col else "index"
    step = epoch if epoch_col else np.arange(len(table.frame), dtype=float)
    cells = parse_columns(table, [c for c in columns if c not in (epoch_col, time_col)])
    cells, dropped = drop_text_columns(cells, f"'{path}'")
    if not cells:
        raise LoadError(
            f"'{path}' has no numeric metric column (columns: "
            f"{', '.join(repr(c) for c in columns)}). Is it an Ultralytics results.csv?"
        )
    cells, derived = _add_totals(cells, path)
    records = cells_to_records(
        cells, step=step, epoch=epoch, wall_time=numbers_of(table, time_col), lines=table.lines
    )
    args_path = path.parent / "args.yaml"
    hparams, args_notes = read_args(args_path) if args_path.is_file() else ({}, ())
    files = (str(path), str(args_path)) if args_path.is_file() else (str(path),)
    return RunLog(
        source=str(path),
        format="yolo_csv",
        records=records,
        step_unit=unit,
        hparams=hparams,
        role_hints=role_hints(list(cells)),
        notes=table.notes + dropped + derived + args_notes,
        files=files,
    )


SPEC = LoaderSpec(
    format="yolo_csv",
    description="Ultralytics results.csv (train/box_loss, metrics/mAP50(B), lr/pg0, ...)",
    sniff=_sniff,
    load=_load,
)
