"""Read Weights & Biases runs: offline run folders (``.wandb`` logs) and history exports.

A run written by ``wandb`` (offline, or not yet synced) keeps everything it logged in
``wandb/[offline-]run-<date>_<time>-<id>/run-<id>.wandb``: a LevelDB-style log of protobuf
``Record`` messages. Recent wandb (0.31) reads that file only in its Go core and no longer
ships the Python reader (``wandb.sdk.internal.datastore``), so this module undoes the log's
framing (the LevelDB log format: 32 KiB blocks of chunks, each with a 7-byte header holding
a CRC-32, a length and a FULL/FIRST/MIDDLE/LAST type) and decodes every record with
wandb's own generated ``wandb.proto.wandb_internal_pb2.Record``.

History records hold one item per logged key (``_step``, ``_runtime`` and ``_timestamp``
included); run and config records hold the config, read as ``hparams``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._tables import EPOCH_COLUMNS, empty_records

__all__ = ["EXPORT_SPEC", "SPEC"]

_INSTALL = 'pip install "dynamics_stats[wandb]"'
_HEADER = struct.Struct("<4sHB")  # ident, magic, version
_CHUNK = struct.Struct("<IHB")  # crc32 of type byte + data, length, type
_IDENT, _MAGIC, _BLOCK = b":W&B", 0xBEE1, 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_CRC_SEED = {kind: zlib.crc32(bytes([kind])) for kind in (_FULL, _FIRST, _MIDDLE, _LAST)}
_RUN_DIR = re.compile(r"(?:offline-)?run-(\d{8}_\d{6})-(.+)")
#: Logged by W&B or by the loggers that use it; the optimizer step when present.
_GLOBAL_STEPS = ("train/global_step", "trainer/global_step")
_NOT_METRICS = ("_runtime", "_step", "_timestamp")
_NAN_TEXT = frozenset({"nan", "-nan", "+nan"})
_MAX_LISTED = 10
_History = tuple[list[str], list[Any], list[int]]
_Notes = tuple[ValidationIssue, ...]


def _note(code: str, level: Any, message: str, **fields: Any) -> ValidationIssue:
    return ValidationIssue(code, level, message, **fields)


def _listed(names: Iterable[str]) -> str:
    items = list(names)
    return ", ".join(items[:_MAX_LISTED]) + (", ..." if len(items) > _MAX_LISTED else "")


# --- shared: history rows -> records (a logged NaN is a value; a missing key is not) -------


def _axis_keys(
    keys: Iterable[str], step_column: str | None
) -> tuple[str | None, str | None, tuple[ValidationIssue, ...]]:
    """Pick the step and epoch keys; ``train/global_step`` beats ``_step`` (counts calls)."""
    names = sorted(set(keys))
    global_step = next((k for k in _GLOBAL_STEPS if k in names), None)
    step = step_column or global_step or next((k for k in ("_step", "Step") if k in names), None)
    epoch = next((k for e in EPOCH_COLUMNS for k in names if k.lower() == e and k != step), None)
    if global_step is None or step != global_step:
        return step, epoch, ()
    message = f"steps taken from '{global_step}' (W&B's own _step counts log calls)."
    return step, epoch, (_note("wandb_step", "info", message),)


def _skipped(names: Iterable[str]) -> tuple[ValidationIssue, ...]:
    names = sorted(set(names))
    if not names:
        return ()
    message = (
        f"skipped logged values that are not numbers (media, tables, lists): {_listed(names)}."
    )
    return (_note("wandb_non_scalar", "info", message, n_affected=len(names)),)


def _long_records(
    keys: Sequence[str], values: Sequence[Any], lines: Sequence[int], step_column: str | None
) -> tuple[pd.DataFrame, tuple[ValidationIssue, ...]]:
    """Build records from (key, value, row) triples, one row per ``wandb.log`` call.

    The step, epoch and ``_timestamp`` of a row apply to every value of that row; a value
    logged as NaN or inf is kept, a key absent from a row is simply not there.
    """
    frame = pd.DataFrame(
        {"metric": keys, "value": pd.Series(values, dtype=object), "line": np.asarray(lines)}
    )
    names = set(pd.unique(frame["metric"]))
    step, epoch, notes = _axis_keys(names, step_column)

    def axis(key: str | None) -> np.ndarray:
        if key not in names:
            return np.full(len(frame), np.nan)
        rows = frame[frame["metric"] == key].drop_duplicates("line", keep="last")
        by_row = pd.to_numeric(rows["value"], errors="coerce").astype(float)
        return frame["line"].map(dict(zip(rows["line"], by_row, strict=True))).to_numpy(float)

    media = {k[: -len("._type")] for k in names if k.endswith("._type")}
    skip = {k for k in names if any(k.startswith(m + ".") for m in media)}
    skip |= {k for k in (step, epoch, *_NOT_METRICS) if k is not None}
    kinds = frame["value"].map(type)
    nested = kinds.isin([dict, list]).to_numpy()
    absent = kinds.isin([type(None)]).to_numpy()
    keep = ~frame["metric"].isin(skip).to_numpy() & ~nested & ~absent
    flags = kinds.isin([bool]).to_numpy()
    frame.loc[flags, "value"] = frame.loc[flags, "value"].astype(float)
    records = pd.DataFrame(
        {
            "metric": frame["metric"],
            "step": axis(step),
            "epoch": axis(epoch),
            "wall_time": axis("_timestamp"),
            "value": frame["value"],
            "line": frame["line"],
        }
    )[keep].reset_index(drop=True)
    with contextlib.suppress(ValueError, TypeError):  # text among the values: keep it as text
        records["value"] = records["value"].astype(float)
    skipped = media | set(frame.loc[nested, "metric"]) - skip
    return records, notes + _skipped(skipped)


def _csv_records(
    raw: pd.DataFrame, step_column: str | None
) -> tuple[pd.DataFrame, tuple[ValidationIssue, ...]]:
    """Melt a CSV read as text: empty cells are missing, ``nan``/``inf`` text are values."""
    step, epoch, notes = _axis_keys(raw.columns, step_column)
    n_rows = len(raw)

    def numbers(column: str | None) -> np.ndarray:
        if column is None or column not in raw.columns:
            return np.full(n_rows, np.nan)
        return pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)

    axis = {"step": numbers(step), "epoch": numbers(epoch), "wall_time": numbers("_timestamp")}
    lines = np.arange(2, n_rows + 2)
    parts, skipped = [], []
    for column in [c for c in raw.columns if c not in {step, epoch, *_NOT_METRICS}]:
        text = raw[column].astype(str).str.strip()
        present = (text != "").to_numpy()
        if not present.any():
            continue
        if text[present].str.startswith(("{", "[")).any():
            skipped.append(column)
            continue
        numeric = pd.to_numeric(text, errors="coerce")
        is_number = (numeric.notna() | text.str.lower().isin(_NAN_TEXT)).to_numpy()
        value = np.where(is_number, numeric.to_numpy(dtype=float), text.to_numpy(dtype=object))
        columns = {"metric": column, **axis, "value": value, "line": lines}
        parts.append(pd.DataFrame(columns)[present])
    records = pd.concat(parts, ignore_index=True) if parts else empty_records()
    with contextlib.suppress(ValueError, TypeError):
        records["value"] = records["value"].astype(float)
    return records, notes + _skipped(skipped)


# --- the .wandb transaction log -----------------------------------------------------------------


def _chunks(data: bytes, log: Path) -> tuple[list[bytes], tuple[ValidationIssue, ...]]:
    """Undo the LevelDB log framing: whole records, and a note if the log ends early."""
    if len(data) < _HEADER.size or _HEADER.unpack_from(data) != (_IDENT, _MAGIC, 0):
        raise LoadError(f"'{log}' is not a W&B run log: it lacks the ':W&B' header.")
    out: list[bytes] = []
    parts: list[bytes] = []
    pos = start = _HEADER.size
    while pos < len(data):
        room = _BLOCK - pos % _BLOCK
        if room < _CHUNK.size:  # a block ends with zero padding
            pos += room
            continue
        crc, length, kind = _CHUNK.unpack_from(data, pos) if pos + 7 <= len(data) else (0, 0, 0)
        body = data[pos + _CHUNK.size : pos + _CHUNK.size + length]
        if kind not in _CRC_SEED or len(body) < length:
            return out, (_truncated(log, pos),)
        if zlib.crc32(body, _CRC_SEED[kind]) != crc:
            message = f"'{log}' is corrupt at byte {pos} (checksum mismatch); the rest was skipped."
            return out, (_note("wandb_corrupt", "warning", message),)
        if kind in (_FULL, _FIRST):
            start, parts = pos, []
        pos += _CHUNK.size + length
        parts.append(body)
        if kind in (_FULL, _LAST):
            out.append(b"".join(parts))
            parts = []
    if parts:
        return out, (_truncated(log, start),)
    return out, ()


def _truncated(log: Path, offset: int) -> ValidationIssue:
    message = (
        f"'{log}' ends with an incomplete record at byte {offset} (the run was still being "
        "written, or stopped abruptly); that record was skipped."
    )
    return _note("wandb_truncated", "repaired", message)


def _item_key(item: Any) -> str:
    if item.key:
        return str(item.key)
    nested = item.nested_key
    return str(nested[0]) if len(nested) == 1 else ".".join(nested)


def _item_json(item: Any) -> str:
    """Give a history item's value as JSON text: ``value_json`` (0.31) or a typed field."""
    if item.value_json:
        return str(item.value_json)
    kind = item.WhichOneof("value")
    if kind == "json":
        return str(item.json)
    return json.dumps(None if kind in (None, "none") else getattr(item, kind))


def _decode(texts: list[str]) -> tuple[list[Any], int]:
    """Decode many JSON values at once; an undecodable one becomes None (and is counted)."""
    try:
        return json.loads("[" + ",".join(texts) + "]"), 0
    except json.JSONDecodeError:
        values, n_bad = [], 0
        for text in texts:
            try:
                values.append(json.loads(text))
            except json.JSONDecodeError:
                values.append(None)
                n_bad += 1
        return values, n_bad


def _flatten(key: str, value: Any, out: dict[str, HParamValue]) -> None:
    """Add a config value, unwrapping ``{"value": ...}`` and dotting nested keys."""
    if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
        value = value["value"]
    if isinstance(value, dict):
        for sub, inner in value.items():
            _flatten(f"{key}.{sub}", inner, out)
    elif isinstance(value, (list, tuple)):
        out[key] = json.dumps(value)
    else:
        out[key] = value


def _update_config(config: dict[str, HParamValue], record: Any) -> None:
    for item in record.update:
        key = _item_key(item)
        if not key.startswith("_wandb"):
            _flatten(key, json.loads(item.value_json), config)
    for item in record.remove:
        key = _item_key(item)
        for name in [k for k in config if k == key or k.startswith(key + ".")]:
            del config[name]


def _read_log(log: Path) -> tuple[_History, dict[str, HParamValue], list[str], _Notes]:
    """History as (keys, values, record numbers), config, run description and notes."""
    try:
        from google.protobuf.message import DecodeError
        from wandb.proto import wandb_internal_pb2
    except ImportError as err:
        raise LoadError(f"reading '{log}' needs the wandb package: {_INSTALL}") from err
    chunks, notes = _chunks(log.read_bytes(), log)
    keys: list[str] = []
    texts: list[str] = []
    numbers: list[int] = []
    config: dict[str, HParamValue] = {}
    about: list[str] = []
    record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
    for number, chunk in enumerate(chunks, start=1):
        try:
            record.ParseFromString(chunk)
        except DecodeError:
            message = f"record {number} of '{log}' cannot be decoded; it was skipped."
            notes += (_note("wandb_bad_record", "warning", message, lines=(number,)),)
            continue
        kind = record.WhichOneof("record_type")
        if kind == "history":
            n_keys = len(keys)
            for item in record.history.item:  # inlined: this loop is most of the load time
                nested = item.nested_key
                keys.append(item.key or (nested[0] if len(nested) == 1 else ".".join(nested)))
                texts.append(item.value_json or _item_json(item))
            numbers += [number] * (len(keys) - n_keys)
            if "_step" not in keys[n_keys:] and record.history.HasField("step"):
                keys, texts, numbers = (
                    [*keys, "_step"],
                    [*texts, str(record.history.step.num)],
                    [*numbers, number],
                )
        elif kind == "run":
            _update_config(config, record.run.config)
            about = [record.run.run_id, record.run.display_name, record.run.project]
        elif kind == "config":
            _update_config(config, record.config)
    values, n_bad = _decode(texts)
    if n_bad:
        message = f"{n_bad} logged values of '{log}' are not valid JSON; they were skipped."
        notes += (_note("wandb_bad_value", "warning", message, n_affected=n_bad),)
    return (keys, values, numbers), config, about, notes


def _run_dirs(folder: Path) -> list[Path]:
    runs = [d for d in folder.iterdir() if d.is_dir() and _RUN_DIR.fullmatch(d.name)]
    runs = [d for d in runs if any(d.glob("run-*.wandb"))]
    return sorted(runs, key=lambda d: (_RUN_DIR.fullmatch(d.name).group(1), d.name))  # type: ignore[union-attr]


def _find_log(path: Path) -> tuple[Path, tuple[ValidationIssue, ...]]:
    """Find the ``.wandb`` file of a run folder, or of the latest run of a ``wandb/`` folder."""
    if path.is_file():
        return path, ()
    logs = sorted(path.glob("run-*.wandb"))
    if len(logs) > 1:
        raise LoadError(
            f"'{path}' holds {len(logs)} W&B run logs ({_listed(p.name for p in logs)}); "
            "pass one of them."
        )
    if logs:
        return logs[0], ()
    runs = _run_dirs(path)
    if not runs:
        raise LoadError(f"'{path}' holds no W&B run (no run-*.wandb file); pass a run folder.")
    log = sorted(runs[-1].glob("run-*.wandb"))[0]
    if len(runs) == 1:
        return log, ()
    others = _listed(d.name for d in reversed(runs[:-1]))
    message = (
        f"'{path}' holds {len(runs)} W&B runs; read the latest, {runs[-1].name} (others: {others})."
    )
    hint = "Pass a run folder to read another run."
    return log, (_note("wandb_latest_run", "info", message, hint=hint),)


def _sniff(path: Path) -> bool:
    try:
        if path.is_file():
            if path.suffix != ".wandb":
                return False
            with path.open("rb") as handle:
                return handle.read(4) == _IDENT
        if path.is_dir():
            return any(path.glob("run-*.wandb")) or bool(_run_dirs(path))
    except OSError:
        return False
    return False


def _load(path: Path, options: LoadOptions) -> RunLog:
    log, notes = _find_log(path)
    if log.stat().st_size == 0:
        raise LoadError(f"'{log}' is empty: the W&B run logged nothing yet.")
    (keys, values, numbers), config, about, read_notes = _read_log(log)
    if not keys:
        raise LoadError(f"'{log}' holds no logged values (no wandb.log call was recorded).")
    records, table_notes = _long_records(keys, values, numbers, options.step_column)
    if about:
        run_id, name, project = about
        message = f"read W&B run '{run_id}' ({name or 'unnamed'}, project {project or '?'})."
        notes += (_note("wandb_run", "info", message),)
    return RunLog(
        source=str(path),
        format="wandb",
        records=records,
        step_unit="step",
        hparams=config,
        notes=notes + read_notes + table_notes,
        files=(str(log),),
    )


SPEC = LoaderSpec(
    format="wandb",
    description="Weights & Biases run folder (offline or unsynced run-<id>.wandb)",
    sniff=_sniff,
    load=_load,
    extra="wandb",
)


# --- W&B history exports (CSV, JSON) ----------------------------------------------------------


def _is_history_header(columns: list[str]) -> bool:
    return "_step" in columns and ("_runtime" in columns or "_timestamp" in columns)


def _is_chart_header(columns: list[str]) -> bool:
    return len(columns) > 1 and columns[0] == "Step" and all(" - " in c for c in columns[1:])


def _sniff_export(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".json", ".jsonl"}:
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError:
        return False
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    if suffix == ".csv":
        header = next(csv.reader([text.lstrip("\ufeff").splitlines()[0]]), []) if text else []
        return _is_history_header(header) or _is_chart_header(header)
    return '"_step"' in text and ('"_runtime"' in text or '"_timestamp"' in text)


def _chart_to_history(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Turn a chart export into a history: strip ``<run> - ``, drop ``__MIN``/``__MAX``."""
    series = [c for c in table.columns[1:] if not c.endswith(("__MIN", "__MAX"))]
    runs = sorted({c.rpartition(" - ")[0] for c in series})
    if len(runs) > 1:
        raise LoadError(
            f"'{path}' is a W&B chart export holding {len(runs)} runs ({_listed(runs)}); "
            "export the chart with only one run visible (hide the others in the W&B UI)."
        )
    renamed = {c: c.rpartition(" - ")[2] for c in series}
    return table[["Step", *series]].rename(columns=renamed)


def _json_rows(path: Path, text: str) -> tuple[list[Any], list[int], tuple[ValidationIssue, ...]]:
    """Rows of a JSON list (numbered by position) or of JSON lines (numbered by line)."""
    if text.lstrip().startswith("["):
        try:
            listed = json.loads(text)
        except json.JSONDecodeError as err:
            raise LoadError(f"'{path}' is not valid JSON: {err}. Export it again.") from err
        return listed, list(range(1, len(listed) + 1)), ()
    rows: list[Any] = []
    lines: list[int] = []
    notes: _Notes = ()
    numbered = [(i, s) for i, s in enumerate(text.splitlines(), start=1) if s.strip()]
    for i, line in numbered:
        try:
            rows.append(json.loads(line))
            lines.append(i)
        except json.JSONDecodeError:
            last = i == numbered[-1][0] and not text.endswith("\n")
            message = f"line {i} of '{path}' is {'cut short' if last else 'not JSON'}; skipped."
            level = "repaired" if last else "warning"
            notes += (_note("wandb_bad_line", level, message, n_affected=1, lines=(i,)),)
    return rows, lines, notes


def _read_export(
    path: Path, step_column: str | None
) -> tuple[pd.DataFrame, tuple[ValidationIssue, ...]]:
    if path.suffix.lower() != ".csv":
        rows, lines, notes = _json_rows(path, path.read_text(encoding="utf-8"))
        if not all(isinstance(r, dict) for r in rows):
            raise LoadError(f"'{path}' must hold one JSON object per logged row (a list or lines).")
        keys = [key for row in rows for key in row]
        values = [value for row in rows for value in row.values()]
        numbers = [line for row, line in zip(rows, lines, strict=True) for _ in row]
        records, more = _long_records(keys, values, numbers, step_column)
        return records, notes + more
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise LoadError(f"cannot read '{path}' as CSV: {err}. Export it again.") from err
    raw.columns = [str(c) for c in raw.columns]
    if _is_chart_header(list(raw.columns)):
        raw = _chart_to_history(raw, path)
    index = [c for c in raw.columns if c == "" or c.startswith("Unnamed: 0")]
    return _csv_records(raw.drop(columns=index), step_column)


def _load_export(path: Path, options: LoadOptions) -> RunLog:
    if path.stat().st_size == 0:
        raise LoadError(f"'{path}' is empty; a W&B history export was expected.")
    records, notes = _read_export(path, options.step_column)
    return RunLog(
        source=str(path),
        format="wandb_export",
        records=records,
        step_unit="step",
        notes=notes,
        files=(str(path),),
    )


EXPORT_SPEC = LoaderSpec(
    format="wandb_export",
    description="W&B history export: run.history() CSV/JSON or a chart's CSV from the web UI",
    sniff=_sniff_export,
    load=_load_export,
)
