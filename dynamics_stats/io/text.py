"""Read plain-text training logs, with a user regex or a generic key/value reader.

With ``options.regex`` (named groups: ``step`` or ``epoch`` give the position, every other
named group is a metric), each line is searched with it. Without one, lines such as::

    Epoch:1/80  Learning Rate: 0.001000  Train Loss: 4.834  Val Loss: 3.255
    epoch 3 | loss=0.41 | val_loss=0.52
    {'loss': 0.41, 'learning_rate': 5e-05, 'epoch': 0.5}

are read as ``Name: number`` or ``Name=number`` pairs, and ``epoch N``, ``step N``,
``iter N`` (optionally ``N/TOTAL``) give the position. Metric names are lower-cased with
spaces turned into ``_`` (``Train Loss`` -> ``train_loss``). Lines without a position and a
metric are ignored and counted in an info note. This is the last loader tried by detection.

The generic key/value reader lives in `dynamics_stats.io._text_scan`; `line_numbers`,
`newline_index`, `numeric_or_text` and `scalar_value` (shared with the llm.c loader) live in
`dynamics_stats.io._log_text` and are re-exported here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._log_text import (
    line_numbers,
    newline_index,
    numeric_or_text,
    read_log_text,
    read_text_head,
    scalar_value,
)
from dynamics_stats.io._tables import empty_records
from dynamics_stats.io._text_scan import (
    PAIR,
    POSITION,
    ignored_note,
    nonempty_lines,
    read_key_values,
    text_records,
)

__all__ = ["SPEC", "line_numbers", "newline_index", "numeric_or_text", "scalar_value"]

_SNIFF_BYTES = 65536
_SNIFF_LINES = 50
_MIN_SNIFF_HITS = 3


# --- user regex ----------------------------------------------------------------------------


def _compile(regex: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(regex)
    except re.error as err:
        raise LoadError(
            f"options.regex {regex!r} is not a valid regular expression: {err}."
        ) from err
    if not pattern.groupindex:
        raise LoadError(
            f"options.regex {regex!r} has no named group. Name the position "
            "(?P<step>\\d+) or (?P<epoch>\\d+) and each metric, e.g. (?P<loss>[0-9.eE+-]+)."
        )
    return pattern


def _regex_axes(found: pd.DataFrame) -> tuple[FloatArray, FloatArray, StepUnit]:
    """Step, epoch and step unit from the ``step`` / ``epoch`` groups of the matched lines."""
    nan = np.full(len(found), np.nan)
    epoch = _to_float(found["epoch"]) if "epoch" in found.columns else nan
    if "step" in found.columns:
        return _to_float(found["step"]), epoch, "step"
    if "epoch" in found.columns:
        return epoch, epoch, "epoch"
    return np.arange(len(found), dtype=float), epoch, "index"


def _to_float(column: pd.Series) -> FloatArray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _read_with_regex(
    path: Path, text: str, regex: str
) -> tuple[pd.DataFrame, StepUnit, list[ValidationIssue]]:
    pattern = _compile(regex)
    names = list(pattern.groupindex)
    raw_lines = pd.Series([s.removesuffix("\r") for s in text.split("\n")], dtype=object)
    found = raw_lines.str.extract(pattern)[names]
    found = found[found.notna().any(axis=1)]
    if found.empty:
        first = next((s for s in raw_lines if s.strip()), "")
        raise LoadError(
            f"options.regex matched no line of '{path}' (first line: {first[:80]!r}). "
            "Check the regex against the file, or leave it unset to use the generic reader."
        )
    line = found.index.to_numpy() + 1
    step, epoch, unit = _regex_axes(found)
    parts = []
    for name in (n for n in names if n not in ("step", "epoch")):
        present = found[name].notna().to_numpy()
        if present.any():
            values = found[name][present].tolist()
            metric = [name] * len(values)
            parts.append(text_records(metric, step[present], epoch[present], values, line[present]))
    records = pd.concat(parts, ignore_index=True) if parts else empty_records()
    ignored = np.setdiff1d(nonempty_lines(text), line)
    return records, unit, ignored_note(path, ignored, "do not match options.regex")


def _sniff(path: Path) -> bool:
    head = read_text_head(path, _SNIFF_BYTES)
    if head is None:
        return False
    if head.lstrip()[:1] in (b"{", b"["):
        return False
    lines = [s for s in head.decode("utf-8", errors="replace").split("\n") if s.strip()]
    lines = lines[:_SNIFF_LINES]
    hits = sum(1 for s in lines if POSITION.search(s) and PAIR.search(s))
    return hits >= max(1, min(_MIN_SNIFF_HITS, len(lines)))


def _load(path: Path, options: LoadOptions) -> RunLog:
    text = read_log_text(path)
    if options.regex:
        records, unit, notes = _read_with_regex(path, text, options.regex)
    else:
        records, unit, notes = read_key_values(path, text)
    if records.empty:
        raise LoadError(
            f"found no line with a position (epoch N, step N) and a metric (Name: number or "
            f"Name=number) in '{path}'. Pass a regex with named groups, e.g. "
            "LoadOptions(regex=r'Epoch (?P<epoch>\\d+).*loss (?P<loss>[0-9.]+)') "
            "(CLI: --regex), or pass format=... for another log format."
        )
    return RunLog(
        source=str(path),
        format="text",
        records=records,
        step_unit=unit,
        notes=tuple(notes),
        files=(str(path),),
    )


SPEC = LoaderSpec(
    format="text",
    description="plain-text log: 'Epoch: 3/80  Train Loss: 0.41', 'step 5 loss=0.3', or a regex",
    sniff=_sniff,
    load=_load,
)
