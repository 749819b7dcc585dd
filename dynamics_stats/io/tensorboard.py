"""Read TensorBoard event files (``events.out.tfevents.*``) with TensorBoard's own reader.

Scalars come in two encodings: ``simple_value`` (TF1, tensorboardX,
``torch.utils.tensorboard``, hence Lightning and the HF Trainer) and a rank-0 tensor tagged
with the ``scalars`` plugin (TF2 ``tf.summary.scalar``); both are read, every point kept.
A folder is read recursively: event files in sub-folders (``train/``, ``validation/``
written by Keras) get the relative folder as a tag prefix (``train/epoch_loss``). A folder
of Lightning ``version_N`` folders is read at its highest version, noted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RECORD_COLUMNS, RunLog
from dynamics_stats.core.types import HParamValue, StepUnit
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._lightning import (
    HPARAMS_FILE,
    find_version_folder,
    lightning_role_hints,
    read_hparams_yaml,
)
from dynamics_stats.io._tables import EPOCH_COLUMNS

__all__ = ["SPEC"]

_MARKER = "tfevents"
_SNIFF_DEPTH = 2
_SNIFF_MAX_ENTRIES = 500
_RECORD_OVERHEAD = 16  # TFRecord framing: length (8) + its crc (4) + data crc (4)
_SCALARS_PLUGIN = "scalars"
_HPARAMS_PLUGIN = "hparams"
_INSTALL = 'pip install "dynamics_stats[tensorboard]"'


def _has_events(folder: Path, depth: int) -> bool:
    subfolders = []
    for n_seen, child in enumerate(folder.iterdir()):
        if n_seen >= _SNIFF_MAX_ENTRIES:
            break
        if _MARKER in child.name and child.is_file():
            return True
        if child.is_dir() and not child.name.startswith("."):
            subfolders.append(child)
    return depth > 0 and any(_has_events(sub, depth - 1) for sub in subfolders[:50])


def _sniff(path: Path) -> bool:
    """Tell whether ``path`` is an event file or a folder with one up to 2 levels down."""
    try:
        if path.is_file():
            return _MARKER in path.name
        return path.is_dir() and _has_events(path, _SNIFF_DEPTH)
    except OSError:
        return False


def _event_files(path: Path) -> tuple[Path, list[Path], tuple[ValidationIssue, ...]]:
    """Return the run folder, its event files (sorted) and a note on a picked version."""
    if path.is_file():
        return path.parent, [path], ()
    root = path
    notes: tuple[ValidationIssue, ...] = ()
    if not any(_MARKER in p.name for p in path.iterdir() if p.is_file()):
        for folder in (path, path / "lightning_logs"):
            found = (
                find_version_folder(folder, marker=f"**/*{_MARKER}*") if folder.is_dir() else None
            )
            if found is not None:
                root, notes = found
                break
    files = sorted(
        (p for p in root.rglob(f"*{_MARKER}*") if p.is_file()),
        key=lambda p: (p.parent.relative_to(root).as_posix(), p.name),
    )
    if not files:
        raise LoadError(
            f"no TensorBoard event file (events.out.tfevents.*) under '{path}'. "
            "Pass the folder the SummaryWriter wrote to, or one event file."
        )
    return root, files, notes


def _import_reader() -> tuple[Any, Any, Any, Any]:
    try:
        from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
        from tensorboard.compat.proto import event_pb2
        from tensorboard.plugins.hparams import metadata as hparams_metadata
        from tensorboard.util import tensor_util
    except ImportError as err:
        raise LoadError(
            f"reading TensorBoard event files needs the tensorboard package: {_INSTALL}"
        ) from err
    return RawEventFileLoader, event_pb2, tensor_util, hparams_metadata


class _FileReader:
    """Reads one event file: scalar rows, hyper-parameters and what went wrong."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.path = path
        self.prefix = prefix
        self.rows: list[tuple[str, int, float, object]] = []
        self.hparams: dict[str, HParamValue] = {}
        self.other_tags: set[str] = set()
        self.notes: list[ValidationIssue] = []
        self._is_scalar: dict[str, bool] = {}

    def read(self) -> None:
        raw_loader, event_pb2, tensor_util, hparams_metadata = _import_reader()
        size = self.path.stat().st_size
        if size == 0:
            raise LoadError(
                f"'{self.path}' is empty: the writer has not flushed any event yet. "
                "Wait for the run to log, or pass another file."
            )
        n_bytes = 0
        for raw in raw_loader(str(self.path)).Load():
            n_bytes += len(raw) + _RECORD_OVERHEAD
            event = event_pb2.Event.FromString(raw)
            if event.HasField("summary"):
                self._read_summary(event, tensor_util, hparams_metadata)
        if n_bytes == 0:
            raise LoadError(
                f"'{self.path}' is not a readable TensorBoard event file: no valid record in "
                f"its {size} bytes. Check that it is an events.out.tfevents.* file."
            )
        if n_bytes < size:
            self.notes.append(
                ValidationIssue(
                    code="truncated_event_file",
                    level="repaired",
                    message=f"skipped the last {size - n_bytes} bytes of '{self.path}': an "
                    "incomplete or corrupt record (the run was probably still writing).",
                    n_affected=1,
                )
            )

    def _read_summary(self, event: Any, tensor_util: Any, hparams_metadata: Any) -> None:
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            if kind == "simple_value":
                self._add(value.tag, event, float(value.simple_value))
            elif kind == "tensor" and self._tensor_is_scalar(value):
                array = tensor_util.make_ndarray(value.tensor)
                if array.size == 1 and array.dtype.kind in "biuf":
                    self._add(value.tag, event, float(array.reshape(())))
                else:
                    self.other_tags.add(value.tag)
            elif value.metadata.plugin_data.plugin_name == _HPARAMS_PLUGIN:
                self._read_hparams(value, hparams_metadata)
            else:
                self.other_tags.add(value.tag)

    def _tensor_is_scalar(self, value: Any) -> bool:
        # Only the first value of a tag must carry metadata (TF2 writers), as in
        # tensorboard.dataclass_compat: the first one decides for the whole series.
        if value.tag not in self._is_scalar:
            meta = value.metadata
            self._is_scalar[value.tag] = meta.plugin_data.plugin_name == _SCALARS_PLUGIN or (
                meta.data_class == 1  # DATA_CLASS_SCALAR
            )
        return self._is_scalar[value.tag]

    def _add(self, tag: str, event: Any, number: float) -> None:
        name = f"{self.prefix}{tag}"
        self.rows.append((name, int(event.step), float(event.wall_time), number))

    def _read_hparams(self, value: Any, hparams_metadata: Any) -> None:
        if value.tag != hparams_metadata.SESSION_START_INFO_TAG:
            return
        content = value.metadata.plugin_data.content
        info = hparams_metadata.parse_session_start_info_plugin_data(content)
        for key, item in info.hparams.items():
            field = item.WhichOneof("kind")
            if field in ("number_value", "string_value", "bool_value"):
                self.hparams[str(key)] = getattr(item, field)


def _records(rows: list[tuple[str, int, float, object]]) -> pd.DataFrame:
    """Build records, moving an ``epoch`` series onto the epoch axis of every record."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})
    table = pd.DataFrame(rows, columns=["metric", "step", "wall_time", "value"])
    table["step"] = table["step"].astype(float)
    table["value"] = table["value"].astype(float)
    table["line"] = 0
    is_epoch = table["metric"].str.lower().isin(EPOCH_COLUMNS)
    epochs = table.loc[is_epoch, ["step", "value"]].rename(columns={"value": "epoch"})
    table = table.loc[~is_epoch].reset_index(drop=True)
    if epochs.empty:
        table["epoch"] = np.nan
    else:
        order = table["step"].sort_values(kind="stable").index
        known = epochs.sort_values("step", kind="stable").drop_duplicates("step", keep="last")
        matched = pd.merge_asof(table.loc[order, ["step"]], known, on="step")
        table.loc[order, "epoch"] = matched["epoch"].to_numpy()
    return table[list(RECORD_COLUMNS)]


def _step_unit(names: list[str]) -> StepUnit:
    """Keras' TensorBoard callback names epoch-level series ``epoch_*``."""
    leaves = [name.rsplit("/", 1)[-1] for name in names]
    return "epoch" if leaves and all(leaf.startswith("epoch_") for leaf in leaves) else "step"


def _read_all(root: Path, files: list[Path]) -> tuple[list[_FileReader], list[ValidationIssue]]:
    readers, notes, errors = [], [], []
    for path in files:
        folder = path.parent.relative_to(root).as_posix()
        reader = _FileReader(path, "" if folder == "." else f"{folder}/")
        try:
            reader.read()
        except LoadError as err:  # one empty or foreign file among several: skip it
            if len(files) == 1:
                raise
            errors.append(err)
            notes.append(
                ValidationIssue(code="event_file_skipped", level="warning", message=str(err))
            )
            continue
        readers.append(reader)
        notes.extend(reader.notes)
    if not readers:
        raise errors[0]
    prefixes = sorted({r.prefix for r in readers if r.prefix})
    if prefixes:
        notes.append(
            ValidationIssue(
                code="subfolder_prefix",
                level="info",
                message=f"read {len(files)} event files under '{root}'; series from sub-folders "
                f"are named with the folder as prefix ({', '.join(prefixes)}).",
            )
        )
    return readers, notes


def _load(path: Path, options: LoadOptions) -> RunLog:
    """Read every scalar of an event file, or of the event files of one run folder."""
    _import_reader()
    root, files, version_notes = _event_files(path)
    readers, notes = _read_all(root, files)
    rows = [row for reader in readers for row in reader.rows]
    if not rows:
        others = sorted({tag for reader in readers for tag in reader.other_tags})[:8]
        found = f" (other summaries: {', '.join(others)})" if others else ""
        raise LoadError(
            f"no scalar summary in '{path}'{found}. Log training metrics with add_scalar / "
            "tf.summary.scalar, or pass the folder of another run."
        )
    hparams: dict[str, HParamValue] = {}
    for reader in readers:
        hparams.update(reader.hparams)
    file_names = [str(p) for p in files]
    if (root / HPARAMS_FILE).is_file():
        yaml_hparams, yaml_notes = read_hparams_yaml(root / HPARAMS_FILE)
        hparams.update(yaml_hparams)
        notes.extend(yaml_notes)
        file_names.append(str(root / HPARAMS_FILE))
    records = _records(rows)
    names = list(pd.unique(records["metric"]))
    return RunLog(
        source=str(path),
        format="tensorboard",
        records=records,
        step_unit=_step_unit(names),
        hparams=hparams,
        role_hints=lightning_role_hints(names),
        notes=(*version_notes, *notes),
        files=tuple(file_names),
    )


SPEC = LoaderSpec(
    format="tensorboard",
    description="TensorBoard event files (events.out.tfevents.*), one file or a run folder",
    sniff=_sniff,
    load=_load,
    extra="tensorboard",
)
