"""Read llm.c training logs: ``main.log`` and the ``train_gpt2cu`` console output.

``main.log`` (written with ``-o DIR``) holds one line per event, ``s:STEP key:value``:
``trl`` (train loss), ``lr``, ``norm`` (gradient norm), ``tel`` (validation loss) and
``eval`` (HellaSwag accuracy). The console output (often captured by slurm) holds a table of
settings, then lines such as::

    step    1/19560 | loss 11.009662 (+nanz)| norm 15.0789 (+nanz)| lr 8.57e-07 | 4230.95 ms | ...
    val loss 3.264775
    ... HellaSwag: 3059/10042 = 0.304621

``val loss`` and HellaSwag lines carry no step; they belong to the last step printed before
them (step 0 before the first). Values are read with regular expressions over the whole
text; ``nan`` is kept as NaN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, HParamValue, IntArray, Role
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._log_text import (
    line_numbers,
    numeric_or_text,
    read_log_text,
    read_text_head,
    scalar_value,
)

__all__ = ["SPEC"]

_NUM = r"[-+]?(?:nan|inf(?:inity)?|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
_FLAGS = re.MULTILINE | re.IGNORECASE
# A run's main.log: "s:120 trl:3.2813 lr:0.000600 norm:0.23".
_MAIN_STEP = re.compile(r"^s:(\d+)[ \t]", re.MULTILINE)
_MAIN_PAIR = re.compile(r"([A-Za-z_]\w*):(\S+)")
# Console: "step   12/19560 | loss 10.2 (+1.2z)| norm 3.1 (+0.3z)| lr 1e-05 | 3.2 ms | ..."
_STEP_LINE = re.compile(
    rf"^step\s+(?P<step>\d+)(?:\s*/\s*(?P<total>\d+))?\s*[:|]?\s*(?:train\s+)?loss\s+(?P<loss>{_NUM})"
    rf"(?:[^\n]*?\bnorm\s+(?P<norm>{_NUM}))?"
    rf"(?:[^\n]*?\blr\s+(?P<lr>{_NUM}))?"
    rf"(?:[^\n]*?(?<![\w.])(?P<step_ms>{_NUM})\s*ms\b)?"
    rf"(?:[^\n]*?(?<![\w.])(?P<mfu>{_NUM})%[^\n|]*MFU)?"
    rf"(?:[^\n]*?(?<![\w.])(?P<tok_per_s>{_NUM})\s*tok/s)?",
    _FLAGS,
)
_STEP_METRICS = ("loss", "norm", "lr", "step_ms", "mfu", "tok_per_s")
_VAL_LINE = re.compile(rf"^val loss\s+(?P<value>{_NUM})", _FLAGS)
_HELLASWAG = re.compile(rf"HellaSwag: \d+/\d+ = (?P<value>{_NUM})", re.IGNORECASE)
_TABLE_ROW = re.compile(r"^\|\s*([^|\n]+?)\s*\|\s*([^|\n]*?)\s*\|[ \t]*\r?$", re.MULTILINE)
_MAIN_ROLES: Mapping[str, Role] = {
    "trl": "train_loss",
    "tel": "val_loss",
    "norm": "grad_norm",
    "lr": "learning_rate",
    "eval": "val_metric",
}
_CONSOLE_ROLES: Mapping[str, Role] = {
    "loss": "train_loss",
    "val_loss": "val_loss",
    "norm": "grad_norm",
    "lr": "learning_rate",
    "hellaswag": "val_metric",
    "step_ms": "other",
    "mfu": "other",
    "tok_per_s": "other",
}
_SNIFF_BYTES = 65536
_SNIFF = re.compile(
    r"\A\s*s:\d+[ \t]+[A-Za-z_]\w*:\S+|^step\s+\d+/\d+\s*[:|]|^\|\s*train data pattern\s*\|",
    re.MULTILINE,
)


def _records(
    metric: str | np.ndarray,
    step: FloatArray,
    values: list[str],
    lines: IntArray,
) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame(
        {
            "metric": metric,
            "step": step,
            "epoch": np.full(n, np.nan),
            "wall_time": np.full(n, np.nan),
            "value": numeric_or_text(values),
            "line": lines,
        }
    )


def _read_main_log(text: str) -> pd.DataFrame:
    markers = list(_MAIN_STEP.finditer(text))
    marker_lines = line_numbers(text, [m.start() for m in markers])
    marker_steps = np.array([float(m.group(1)) for m in markers])
    pairs = [m for m in _MAIN_PAIR.finditer(text) if m.group(1) != "s"]
    pair_lines = line_numbers(text, [m.start() for m in pairs])
    owner = np.searchsorted(marker_lines, pair_lines, side="right") - 1
    keep = (owner >= 0) & (marker_lines[np.clip(owner, 0, None)] == pair_lines)
    kept = [m for m, k in zip(pairs, keep, strict=True) if k]
    return _records(
        np.array([m.group(1) for m in kept], dtype=object),
        marker_steps[owner[keep]],
        [m.group(2) for m in kept],
        pair_lines[keep],
    )


def _read_console(text: str) -> tuple[pd.DataFrame, dict[str, HParamValue]]:
    matches = list(_STEP_LINE.finditer(text))
    lines = line_numbers(text, [m.start() for m in matches])
    steps = np.array([float(m.group("step")) for m in matches])
    parts = []
    for name in _STEP_METRICS:
        found = [(i, m.group(name)) for i, m in enumerate(matches) if m.group(name) is not None]
        if found:
            index = np.array([i for i, _ in found], dtype=np.int64)
            parts.append(_records(name, steps[index], [v for _, v in found], lines[index]))
    starts = np.array([m.start() for m in matches], dtype=np.int64)
    for name, pattern in (("val_loss", _VAL_LINE), ("hellaswag", _HELLASWAG)):
        found_m = list(pattern.finditer(text))
        if found_m:
            positions = [m.start() for m in found_m]
            step = _last_step_before(starts, steps, positions)
            values = [m.group("value") for m in found_m]
            parts.append(_records(name, step, values, line_numbers(text, positions)))
    hparams = _settings(text)
    if matches and matches[0].group("total"):
        hparams["total_steps"] = int(matches[0].group("total"))
    if not parts:
        return pd.DataFrame(), hparams
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values("line", kind="stable", ignore_index=True), hparams


def _last_step_before(starts: IntArray, steps: FloatArray, positions: list[int]) -> FloatArray:
    """Step of the last step line printed before each position (0 before the first)."""
    owner = np.searchsorted(starts, positions, side="right") - 1
    if not len(steps):
        return np.zeros(len(positions))
    return np.where(owner >= 0, steps[np.clip(owner, 0, None)], 0.0)


def _settings(text: str) -> dict[str, HParamValue]:
    """Read the ``| name | value |`` table of settings printed before training."""
    return {
        key: scalar_value(value)
        for key, value in _TABLE_ROW.findall(text)
        if key.lower() != "parameter" and not key.startswith("-")
    }


def _sniff(path: Path) -> bool:
    head = read_text_head(path, _SNIFF_BYTES)
    if head is None:
        return False
    return _SNIFF.search(head.decode("utf-8", errors="replace")) is not None


def _load(path: Path, options: LoadOptions) -> RunLog:
    text = read_log_text(path)
    hparams: dict[str, HParamValue] = {}
    if _MAIN_STEP.search(text) and not _STEP_LINE.search(text):
        records = _read_main_log(text)
        roles = _MAIN_ROLES
    else:
        records, hparams = _read_console(text)
        roles = _CONSOLE_ROLES
    if records.empty:
        raise LoadError(
            f"'{path}' holds no llm.c step line ('s:STEP trl:LOSS ...' in main.log, or "
            "'step N/T | loss L | ...' in the console output). Check that training reached "
            "step 1, or pass format=... for another log format."
        )
    metrics = set(records["metric"].unique())
    return RunLog(
        source=str(path),
        format="llmc",
        records=records,
        step_unit="step",
        hparams=hparams,
        role_hints={k: v for k, v in roles.items() if k in metrics},
        files=(str(path),),
    )


SPEC = LoaderSpec(
    format="llmc",
    description="llm.c main.log (s:STEP trl:LOSS ...) or train_gpt2cu console output",
    sniff=_sniff,
    load=_load,
)
