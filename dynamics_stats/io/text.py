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

`line_numbers`, `newline_index`, `numeric_or_text` and `scalar_value` are shared with the
llm.c loader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, HParamValue, IntArray, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._tables import empty_records
from dynamics_stats.io.jsonlines import read_log_text

__all__ = ["SPEC", "line_numbers", "newline_index", "numeric_or_text", "scalar_value"]

_NUM = r"[-+]?(?:(?i:nan|inf(?:inity)?)|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
_STEP_WORDS = ("global_step", "iteration", "step", "iter")
_POSITION = re.compile(
    # The first letter leads (a character set lets `re` skip ahead fast), then the word.
    r"(?P<kw>[EeSsIiGg](?<![\w./-][EeSsIiGg])"
    r"(?i:(?<=g)lobal_step|(?<=i)teration|(?<=e)poch|(?<=s)tep|(?<=i)ter))(?!\w)[\"']?"
    r"[ \t]*[:=#]?[ \t]*\[?[ \t]*(?P<pos>\d+(?:\.\d+)?)(?:[ \t]*/[ \t]*\d+)?"
)
_NAME = r"[A-Za-z][\w./-]*(?:[ ][A-Za-z][\w./-]*){0,3}"
_PAIR = re.compile(
    rf"(?<![\w./-])[\"']?(?P<name>{_NAME})[\"']?[ \t]*[:=][ \t]*(?P<value>{_NUM})(?![\w/:]|\.\d)"
)
_NAN_WORDS = frozenset({"nan", "+nan", "-nan"})
_SNIFF_BYTES = 65536
_SNIFF_LINES = 50
_MIN_SNIFF_HITS = 3
_MAX_LINES = 10


def newline_index(text: str) -> IntArray:
    r"""Positions of every ``"\n"`` in ``text`` (character offsets)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    return np.flatnonzero(codes == 10)


def line_numbers(text: str | IntArray, positions: Sequence[int]) -> IntArray:
    """1-based line numbers of character offsets, given the text or its `newline_index`."""
    newlines = newline_index(text) if isinstance(text, str) else text
    return np.searchsorted(newlines, np.asarray(positions, dtype=np.int64)) + 1


def numeric_or_text(values: Sequence[object]) -> np.ndarray:
    """Numbers where the text is a number (``nan`` included), the text itself elsewhere."""
    raw = pd.Series(list(values), dtype=object)
    numbers = pd.to_numeric(raw, errors="coerce")
    text = numbers.isna() & ~raw.astype(str).str.strip().str.lower().isin(_NAN_WORDS)
    if not text.any():
        return numbers.to_numpy(dtype=float)
    out = numbers.to_numpy(dtype=object)
    out[text.to_numpy()] = raw[text].to_numpy()
    return out


def scalar_value(text: str) -> HParamValue:
    """Return the text as an int or a float when it is one, else as is."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _frame(
    metrics: Sequence[str], steps: object, epochs: object, values: Sequence[object], lines: object
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": pd.Series(list(metrics), dtype=object),
            "step": np.asarray(steps, dtype=float),
            "epoch": np.asarray(epochs, dtype=float),
            "wall_time": np.full(len(metrics), np.nan),
            "value": numeric_or_text(values),
            "line": np.asarray(lines, dtype=np.int64),
        }
    )


def _nonempty_lines(text: str) -> IntArray:
    return np.array([i for i, s in enumerate(text.split("\n"), 1) if s.strip()], dtype=np.int64)


def _ignored_note(path: Path, ignored: IntArray, what: str) -> list[ValidationIssue]:
    if not len(ignored):
        return []
    return [
        ValidationIssue(
            "ignored_lines",
            "info",
            f"{len(ignored)} line(s) of '{path.name}' {what} and were ignored "
            f"(first: line {ignored[0]}).",
            n_affected=len(ignored),
            lines=tuple(int(i) for i in ignored[:_MAX_LINES]),
        )
    ]


# --- generic key/value reader --------------------------------------------------------------


def _matches_by_line(pattern: re.Pattern[str], text: str) -> tuple[IntArray, list[tuple[str, ...]]]:
    """Return the groups of every match of ``pattern`` and the 1-based line of each.

    Newlines are matched by the same scan, so that `re.findall` (plain tuples, much faster
    than match objects) also gives the line numbers.
    """
    found = re.compile(r"(\n)|" + pattern.pattern, pattern.flags).findall(text)
    is_newline = np.fromiter((f[0] == "\n" for f in found), dtype=bool, count=len(found))
    lines = np.cumsum(is_newline)[~is_newline] + 1
    return lines.astype(np.int64), [f[1:] for f in found if not f[0]]


def _positions(text: str) -> pd.DataFrame:
    """Per line: the first step-like position and the first epoch."""
    lines, found = _matches_by_line(_POSITION, text)
    if not found:
        return pd.DataFrame({"step": pd.Series(dtype=float), "epoch": pd.Series(dtype=float)})
    keywords, positions = zip(*found, strict=True)
    frame = pd.DataFrame(
        {
            "line": lines,
            "is_epoch": pd.Series(keywords, dtype=object).str.lower().eq("epoch").to_numpy(),
            "pos": pd.to_numeric(pd.Series(positions, dtype=object)).to_numpy(dtype=float),
        }
    )
    first = frame.groupby(["line", "is_epoch"], sort=True)["pos"].first().unstack()
    return first.reindex(columns=[False, True]).set_axis(["step", "epoch"], axis=1)


def _pairs(text: str) -> pd.DataFrame:
    lines, found = _matches_by_line(_PAIR, text)
    names, values = zip(*found, strict=True) if found else ((), ())
    raw = pd.Series(names, dtype=object)
    unique = raw.unique()  # normalise each distinct name once
    metric = {n: re.sub(r"\s+", "_", n.strip().lower()) for n in unique}
    is_position = {n: n.split()[-1].lower() in (*_STEP_WORDS, "epoch") for n in unique}
    frame = pd.DataFrame(
        {
            "metric": raw.map(metric),
            "value": pd.Series(values, dtype=object),
            "line": lines,
        }
    )
    return frame[~raw.map(is_position).astype(bool).to_numpy()]


def _read_key_values(path: Path, text: str) -> tuple[pd.DataFrame, StepUnit, list[ValidationIssue]]:
    pairs = _pairs(text)
    positions = _positions(text)
    has_step = positions["step"].notna().any()
    if has_step:  # lines with only an epoch belong to the last step printed before them
        step = positions["step"].ffill()
        unit: StepUnit = "step"
    else:
        step = positions["epoch"]
        unit = "epoch"
    at_line = pd.DataFrame({"step": step, "epoch": positions["epoch"]}).dropna(subset=["step"])
    pairs = pairs[pairs["line"].isin(at_line.index)]
    used = at_line.reindex(pairs["line"].to_numpy())
    records = _frame(
        pairs["metric"].tolist(),
        used["step"],
        used["epoch"],
        pairs["value"].tolist(),
        pairs["line"],
    )
    ignored = np.setdiff1d(_nonempty_lines(text), pairs["line"].to_numpy())
    return records, unit, _ignored_note(path, ignored, "hold no position and metric")


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
            parts.append(_frame(metric, step[present], epoch[present], values, line[present]))
    records = pd.concat(parts, ignore_index=True) if parts else empty_records()
    ignored = np.setdiff1d(_nonempty_lines(text), line)
    return records, unit, _ignored_note(path, ignored, "do not match options.regex")


def _sniff(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    if b"\x00" in head or head.lstrip()[:1] in (b"{", b"["):
        return False
    lines = [s for s in head.decode("utf-8", errors="replace").split("\n") if s.strip()]
    lines = lines[:_SNIFF_LINES]
    hits = sum(1 for s in lines if _POSITION.search(s) and _PAIR.search(s))
    return hits >= max(1, min(_MIN_SNIFF_HITS, len(lines)))


def _load(path: Path, options: LoadOptions) -> RunLog:
    text = read_log_text(path)
    if options.regex:
        records, unit, notes = _read_with_regex(path, text, options.regex)
    else:
        records, unit, notes = _read_key_values(path, text)
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
