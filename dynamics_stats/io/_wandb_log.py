"""Read a W&B ``run-<id>.wandb`` transaction log: `read_log`.

The file is a LevelDB-style log of protobuf ``Record`` messages. Recent wandb (0.31) reads
it only in its Go core and no longer ships the Python reader
(``wandb.sdk.internal.datastore``), so this module undoes the log's framing (32 KiB blocks
of chunks, each with a 7-byte header holding a CRC-32, a length and a
FULL/FIRST/MIDDLE/LAST type) and decodes every record with wandb's own generated
``wandb.proto.wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import HParamValue
from dynamics_stats.io._wandb_history import Notes, note

__all__ = ["IDENT", "History", "read_log"]

_INSTALL = 'pip install "dynamics_stats[wandb]"'
_HEADER = struct.Struct("<4sHB")  # ident, magic, version
_CHUNK = struct.Struct("<IHB")  # crc32 of type byte + data, length, type
#: The first bytes of every ``.wandb`` file.
IDENT = b":W&B"
_MAGIC, _BLOCK = 0xBEE1, 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_CRC_SEED = {kind: zlib.crc32(bytes([kind])) for kind in (_FULL, _FIRST, _MIDDLE, _LAST)}
#: Logged history as parallel lists: keys, values, and the record number of each value.
History = tuple[list[str], list[Any], list[int]]


def _chunks(data: bytes, log: Path) -> tuple[list[bytes], Notes]:
    """Undo the LevelDB log framing: whole records, and a note if the log ends early."""
    if len(data) < _HEADER.size or _HEADER.unpack_from(data) != (IDENT, _MAGIC, 0):
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
            return out, (note("wandb_corrupt", "warning", message),)
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
    return note("wandb_truncated", "repaired", message)


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


def _record_parser(log: Path) -> tuple[type[Exception], Any]:
    """Return protobuf's ``DecodeError`` and an empty wandb ``Record`` to parse into."""
    try:
        from google.protobuf.message import DecodeError
        from wandb.proto import wandb_internal_pb2
    except ImportError as err:
        raise LoadError(f"reading '{log}' needs the wandb package: {_INSTALL}") from err
    return DecodeError, wandb_internal_pb2.Record()  # type: ignore[attr-defined]


def _add_history(history: Any, number: int, out: tuple[list[str], list[str], list[int]]) -> None:
    """Append the items of history record ``number`` to (keys, JSON texts, record numbers)."""
    keys, texts, numbers = out
    n_keys = len(keys)
    for item in history.item:  # inlined: this loop is most of the load time
        nested = item.nested_key
        keys.append(item.key or (nested[0] if len(nested) == 1 else ".".join(nested)))
        texts.append(item.value_json or _item_json(item))
    numbers.extend([number] * (len(keys) - n_keys))
    if "_step" not in keys[n_keys:] and history.HasField("step"):
        keys.append("_step")
        texts.append(str(history.step.num))
        numbers.append(number)


def read_log(log: Path) -> tuple[History, dict[str, HParamValue], list[str], Notes]:
    """Read a ``.wandb`` file.

    Returns
    -------
    (history, config, about, notes)
        The logged history, the run's config (flattened with dots), the run's id, name and
        project (empty if no run record was found) and notes on skipped records.
    """
    decode_error, record = _record_parser(log)
    chunks, notes = _chunks(log.read_bytes(), log)
    found: tuple[list[str], list[str], list[int]] = ([], [], [])
    config: dict[str, HParamValue] = {}
    about: list[str] = []
    for number, chunk in enumerate(chunks, start=1):
        try:
            record.ParseFromString(chunk)
        except decode_error:
            message = f"record {number} of '{log}' cannot be decoded; it was skipped."
            notes += (note("wandb_bad_record", "warning", message, lines=(number,)),)
            continue
        kind = record.WhichOneof("record_type")
        if kind == "history":
            _add_history(record.history, number, found)
        elif kind == "run":
            _update_config(config, record.run.config)
            about = [record.run.run_id, record.run.display_name, record.run.project]
        elif kind == "config":
            _update_config(config, record.config)
    keys, texts, numbers = found
    values, n_bad = _decode(texts)
    if n_bad:
        message = f"{n_bad} logged values of '{log}' are not valid JSON; they were skipped."
        notes += (note("wandb_bad_value", "warning", message, n_affected=n_bad),)
    return (keys, values, numbers), config, about, notes
