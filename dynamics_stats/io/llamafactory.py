"""Read LLaMA-Factory ``trainer_log.jsonl`` files.

LLaMA-Factory's `LogCallback` appends one JSON object per logging or evaluation event:
``current_steps``, ``total_steps``, ``loss``, ``lr`` (older versions: ``learning_rate``),
``epoch``, ``eval_loss`` (a value or ``null``), ``percentage``, ``elapsed_time`` and
``remaining_time`` (``"H:MM:SS"`` or ``"2 days, 3:04:05"``). Progress fields are not metrics:
``elapsed_time`` becomes the wall time in seconds and ``total_steps`` goes to the
hyper-parameters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue, Role
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._json_records import rows_to_records
from dynamics_stats.io._json_rows import parse_json_lines
from dynamics_stats.io._log_text import read_log_text

__all__ = ["SPEC", "parse_duration"]

LOG_FILE = "trainer_log.jsonl"
STEP_KEY = "current_steps"
_PROGRESS_KEYS = ("total_steps", "percentage", "elapsed_time", "remaining_time")
_ROLES: dict[str, Role] = {
    "loss": "train_loss",
    "eval_loss": "val_loss",
    "lr": "learning_rate",
    "learning_rate": "learning_rate",
}
_DURATION = re.compile(r"^\s*(?:(\d+) days?, )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")
_SNIFF_BYTES = 8192


def parse_duration(text: object) -> float:
    """Return the seconds in a ``str(datetime.timedelta)`` text, or NaN if it is not one.

    Examples
    --------
    >>> parse_duration("1 day, 0:08:23")
    86903.0
    """
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        return float("nan")
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400.0 + int(hours) * 3600.0 + int(minutes) * 60.0 + float(seconds)


def _sniff(path: Path) -> bool:
    if not path.is_file():
        return False
    if path.name == LOG_FILE:
        return True
    try:
        with path.open("rb") as handle:
            first = handle.readline(_SNIFF_BYTES)
        obj = json.loads(first)
    except (OSError, ValueError):
        return False
    return isinstance(obj, dict) and STEP_KEY in obj and "total_steps" in obj


def _load(path: Path, options: LoadOptions) -> RunLog:
    text = read_log_text(path)
    rows, lines, notes = parse_json_lines(path, text)
    total_steps = [n for r in rows if isinstance(n := r.get("total_steps"), int)]
    for row in rows:
        row["wall_time"] = parse_duration(row.get("elapsed_time"))
    step_column = STEP_KEY if any(STEP_KEY in row for row in rows) else None
    records, _ = rows_to_records(rows, lines, step_column=step_column, drop_columns=_PROGRESS_KEYS)
    if records.empty:
        raise LoadError(
            f"'{path}' holds LLaMA-Factory log rows but no metric value (every loss is null). "
            "Check that training reached its first logging step."
        )
    hparams: dict[str, HParamValue] = {}
    if total_steps:
        hparams["total_steps"] = max(total_steps)
    metrics = set(records["metric"].unique())
    return RunLog(
        source=str(path),
        format="llamafactory",
        records=records,
        step_unit="step",
        hparams=hparams,
        role_hints={k: v for k, v in _ROLES.items() if k in metrics},
        notes=tuple(notes),
        files=(str(path),),
    )


SPEC = LoaderSpec(
    format="llamafactory",
    description="LLaMA-Factory trainer_log.jsonl (current_steps, loss, lr, eval_loss, ...)",
    sniff=_sniff,
    load=_load,
)
