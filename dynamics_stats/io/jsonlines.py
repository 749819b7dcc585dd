"""Read JSON-lines metric logs: one JSON object per line.

The DeiT / MAE / DETR ``log.txt`` writes one object per epoch (``train_lr``, ``train_loss``,
``test_loss``, ``test_acc1``, ``epoch``, ``n_parameters``); other tools write ``.jsonl`` files
with a step key. Nested objects are flattened with ``"/"``; lists are ignored.

The helpers `read_log_text`, `parse_json_lines` and `rows_to_records`, shared with the
Hugging Face and LLaMA-Factory loaders, live in private modules (`_log_text`, `_json_rows`,
`_json_records`) and are re-exported here.
"""

from __future__ import annotations

import json
from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue, Role, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._json_records import find_key, rows_to_records
from dynamics_stats.io._json_rows import Row, dropped_field_notes, flatten_rows, parse_json_lines
from dynamics_stats.io._log_text import read_log_text, read_text_head
from dynamics_stats.io._tables import EPOCH_COLUMNS, STEP_COLUMNS

__all__ = [
    "SPEC",
    "dropped_field_notes",
    "flatten_rows",
    "parse_json_lines",
    "read_log_text",
    "rows_to_records",
]

_PARAM_COUNTS = ("n_parameters", "n_params", "num_params")
_SNIFF_BYTES = 65536


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


def _sniff(path: Path) -> bool:
    head = read_text_head(path, _SNIFF_BYTES)
    if head is None:
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
    step_col = options.step_column or find_key(keys, STEP_COLUMNS)
    epoch_col = find_key(keys, EPOCH_COLUMNS)
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
