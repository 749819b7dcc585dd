"""Read Hugging Face Trainer ``trainer_state.json`` files.

`TrainerState.save_to_json` writes ``json.dumps(asdict(state), indent=2, sort_keys=True)``.
Its ``log_history`` mixes three kinds of rows: training rows (``loss``, ``grad_norm``,
``learning_rate``, ``epoch``, ``step``), evaluation rows (``eval_loss``, ``eval_<metric>``,
``eval_runtime``...) and one closing summary row (``train_loss``, ``train_runtime``,
``train_samples_per_second``, ``total_flos``...).

The summary row holds run-level averages, not points of a curve: its values are kept as
records named ``summary/<name>`` with role ``"other"``, so that they stay visible (with
their step and line) but never mix into the curves (its ``train_loss`` is the mean over the
whole run, not the train loss at the last step).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue, Role
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._json_records import rows_to_records
from dynamics_stats.io._json_rows import dropped_field_notes, mark_constant
from dynamics_stats.io._log_text import read_log_text

__all__ = ["SPEC", "find_trainer_state"]

STATE_FILE = "trainer_state.json"
SIDE_FILES = ("training_args.json", "config.json")
SUMMARY_PREFIX = "summary/"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
_ROLES: Mapping[str, Role] = {
    "loss": "train_loss",
    "eval_loss": "val_loss",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
}
# Speed metrics from `speed_metrics(prefix, ...)`: eval_runtime, eval_g0_samples_per_second...
_SPEED = re.compile(r"_(runtime|samples_per_second|steps_per_second|tokens_per_second)$")
_ENTRY = re.compile(r"^ {4}\{", re.MULTILINE)
_SNIFF_BYTES = 4096
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _checkpoints(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for child in folder.iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child / STATE_FILE))
    return sorted(found)


def find_trainer_state(path: Path) -> tuple[Path, list[ValidationIssue]]:
    """Return the ``trainer_state.json`` to read for a file or an output folder.

    A folder's own ``trainer_state.json`` (written by ``Trainer.save_state`` at the end of
    training) wins; otherwise the one of the highest ``checkpoint-N`` sub-folder is read.

    Raises
    ------
    LoadError
        If the folder holds neither.
    """
    if path.is_file():
        return path, []
    if (path / STATE_FILE).is_file():
        return path / STATE_FILE, []
    checkpoints = _checkpoints(path) if path.is_dir() else []
    if not checkpoints:
        raise LoadError(
            f"no {STATE_FILE} in '{path}' nor in a checkpoint-N sub-folder of it. "
            "Pass the Trainer's output_dir, one of its checkpoint folders, or the file."
        )
    step, chosen = checkpoints[-1]
    note = ValidationIssue(
        "picked_checkpoint",
        "info",
        f"read {chosen.parent.name}/{STATE_FILE}, the latest of {len(checkpoints)} checkpoint "
        f"folder(s) in '{path}'.",
        hint="Pass another checkpoint folder to read an earlier state.",
    )
    return chosen, [note]


def _entry_lines(text: str, n_entries: int) -> list[int]:
    """Line where each ``log_history`` entry starts, as `save_to_json` indents them, else 0."""
    if "\n" not in text.strip():
        return [1] * n_entries
    starts = [m.start() for m in _ENTRY.finditer(text)]
    if len(starts) != n_entries:
        return [0] * n_entries
    newlines = [m.start() for m in re.finditer("\n", text)]
    return [bisect.bisect_right(newlines, s) + 1 for s in starts]


def _is_summary(row: Mapping[str, object]) -> bool:
    return "train_runtime" in row or ("total_flos" in row and "train_loss" in row)


def _rename_summary(row: dict[str, object]) -> dict[str, object]:
    keep = ("step", "epoch")
    return {k if k in keep else SUMMARY_PREFIX + k: v for k, v in row.items()}


def _scalars(data: Mapping[str, object], prefix: str = "") -> dict[str, HParamValue]:
    """Scalar fields of a JSON object, nested objects flattened with dots; lists skipped."""
    out: dict[str, HParamValue] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_scalars(value, f"{prefix}{key}."))
        elif value is None or isinstance(value, bool | int | float | str):
            out[f"{prefix}{key}"] = value
    return out


def _side_hparams(folder: Path) -> tuple[dict[str, HParamValue], list[str], list[ValidationIssue]]:
    hparams: dict[str, HParamValue] = {}
    files, notes = [], []
    for name in SIDE_FILES:
        side = folder / name
        if not side.is_file():
            continue
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            notes.append(
                ValidationIssue("unreadable_side_file", "warning", f"'{side}' was skipped: {err}.")
            )
            continue
        if isinstance(data, dict):
            hparams.update(_scalars(data, prefix=f"{side.stem}."))
            files.append(str(side))
    return hparams, files, notes


def _parse_state(path: Path) -> tuple[dict[str, object], str]:
    text = read_log_text(path)
    try:
        state = json.loads(text, parse_constant=mark_constant)
    except ValueError as err:
        raise LoadError(
            f"'{path}' is not valid JSON ({err}). A trainer_state.json cut off while being "
            "written cannot be read; use the one of an earlier checkpoint-N folder."
        ) from err
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise LoadError(
            f"'{path}' has no 'log_history' list, so it is not a Hugging Face trainer_state.json. "
            "Pass format=... to read it as another format."
        )
    return state, text


def _role_hints(metrics: set[str]) -> dict[str, Role]:
    hints: dict[str, Role] = {k: v for k, v in _ROLES.items() if k in metrics}
    for name in metrics:
        if name.startswith(SUMMARY_PREFIX) or (
            name.startswith(("eval_", "train_", "test_", "predict_")) and _SPEED.search(name)
        ):
            hints[name] = "other"
    return hints


def _state_hparams(state: Mapping[str, object]) -> dict[str, HParamValue]:
    hparams: dict[str, HParamValue] = {}
    for key, value in state.items():
        if isinstance(value, str) and value.startswith("\x00"):
            hparams[key] = _NON_FINITE[value[1:]]
        elif key != "log_history" and (
            value is None or isinstance(value, bool | int | float | str)
        ):
            hparams[key] = value
    return hparams


def _sniff(path: Path) -> bool:
    try:
        if path.is_dir():
            return (path / STATE_FILE).is_file() or bool(_checkpoints(path))
        if not path.is_file() or path.suffix.lower() != ".json":
            return False
        if path.name == STATE_FILE:
            return True
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    return b'"log_history"' in head and b'"global_step"' in head


def _load(path: Path, options: LoadOptions) -> RunLog:
    state_path, notes = find_trainer_state(path)
    state, text = _parse_state(state_path)
    history = [row for row in state["log_history"] if isinstance(row, dict)]  # type: ignore[attr-defined]
    lines = _entry_lines(text, len(state["log_history"]))  # type: ignore[arg-type]
    if len(history) != len(state["log_history"]):  # type: ignore[arg-type]
        lines = [0] * len(history)
    rows = [_rename_summary(r) if _is_summary(r) else r for r in history]
    records, texts = rows_to_records(rows, lines)
    if records.empty:
        raise LoadError(
            f"'{state_path}' has an empty log_history: the Trainer logged nothing yet. "
            "Lower logging_steps, or read a later checkpoint."
        )
    side, side_files, side_notes = _side_hparams(state_path.parent)
    return RunLog(
        source=str(path),
        format="hf_trainer_state",
        records=records,
        step_unit="step",
        hparams={**side, **_state_hparams(state)},
        role_hints=_role_hints(set(records["metric"].unique())),
        notes=tuple(notes + dropped_field_notes(state_path, (), texts) + side_notes),
        files=(str(state_path), *side_files),
    )


SPEC = LoaderSpec(
    format="hf_trainer_state",
    description="Hugging Face Trainer trainer_state.json (an output folder or checkpoint-N)",
    sniff=_sniff,
    load=_load,
)
