"""Read training logs from every common logger into a `RunLog`.

`load_run` accepts a path (file or folder), an MLflow ``runs:/<run_id>`` URI, a pandas
DataFrame, or an already-loaded `RunLog`. The format is detected from the path unless
given; `LOADERS` lists every format in detection order.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from dynamics_stats.core.errors import LoadError, UnknownNameError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io import (
    dataframe,
    hf_trainer_state,
    jsonlines,
    keras_csv,
    lightning_csv,
    llamafactory,
    llmc,
    mlflow,
    table,
    tensorboard,
    text,
    wandb,
    yolo_csv,
)
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._detect import detect_format

__all__ = ["LOADERS", "LoadOptions", "LoaderSpec", "get_loader", "load_run"]

_SPECS: tuple[LoaderSpec, ...] = (
    mlflow.SPEC,
    wandb.SPEC,
    tensorboard.SPEC,
    hf_trainer_state.SPEC,
    lightning_csv.SPEC,
    yolo_csv.SPEC,
    llamafactory.SPEC,
    llmc.SPEC,
    wandb.EXPORT_SPEC,
    jsonlines.SPEC,
    keras_csv.SPEC,
    table.PARQUET_SPEC,
    table.SPEC,
    text.SPEC,
)

#: Every registered format, in detection order.
LOADERS: Mapping[str, LoaderSpec] = MappingProxyType({s.format: s for s in _SPECS})


def get_loader(name: str) -> LoaderSpec:
    """Return the loader registered under ``name``.

    Raises
    ------
    UnknownNameError
        If no loader has that name; the message suggests close matches.
    """
    if name in LOADERS:
        return LOADERS[name]
    close = difflib.get_close_matches(name, LOADERS, n=2)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownNameError(f"no log format named {name!r}.{hint} Available: {', '.join(LOADERS)}.")


def load_run(
    source: str | Path | pd.DataFrame | RunLog,
    *,
    format: str | None = None,  # noqa: A002 - the word users know
    options: LoadOptions | None = None,
) -> RunLog:
    """Read one training run.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or RunLog
        A log file or folder, an MLflow ``runs:/<run_id>`` URI (with
        ``options.tracking_uri``), a DataFrame (wide: one column per metric; or long:
        ``step``, ``metric``, ``value`` columns), or a `RunLog` (returned as is).
    format : str or None, default=None
        Force a format from `LOADERS` instead of detecting it.
    options : LoadOptions or None, default=None
        Loader options (MLflow tracking URI, a regex for text logs, renames).

    Returns
    -------
    RunLog
        The raw records, unvalidated. Pass it to `dynamics_stats.validate_run`.

    Raises
    ------
    LoadError
        If the source does not exist, its format cannot be told, or it cannot be read.
    UnknownNameError
        If ``format`` is not registered.
    """
    options = options or LoadOptions()
    if isinstance(source, RunLog):
        return _renamed(source, options)
    if isinstance(source, pd.DataFrame):
        return _renamed(dataframe.load_frame(source, options), options)
    if isinstance(source, str) and source.startswith("runs:/"):
        return _renamed(mlflow.load_uri(source, options), options)
    path = Path(source)
    if not path.exists():
        raise LoadError(f"no such file or folder: '{path}'. Check the path.")
    if format is not None:
        return _renamed(get_loader(format).load(path, options), options)
    spec, target = detect_format(path, LOADERS)
    return _renamed(spec.load(target, options), options)


def _renamed(run: RunLog, options: LoadOptions) -> RunLog:
    """Apply ``options.rename`` to metric names and role-hint keys."""
    if not options.rename:
        return run
    rename = dict(options.rename)
    records = run.records.assign(metric=run.records["metric"].map(lambda m: rename.get(m, m)))
    hints = {rename.get(k, k): v for k, v in run.role_hints.items()}
    return dataclasses.replace(run, records=records, role_hints=hints)
