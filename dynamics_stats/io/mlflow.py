"""Read one MLflow run: a local ``mlruns`` store, a SQLite store or a tracking server.

The run is read through MLflow's own client: ``MlflowClient.get_run`` for the parameters
and the metric history of every key (`dynamics_stats.io._mlflow_client`). MLflow may write
when it opens a store (a ``.trash`` folder, a default experiment, schema migrations), so a
local store is never opened in place: the run's folder, or the SQLite file, is first copied
to a temporary folder and the copy is read (`dynamics_stats.io._mlflow_store`).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._mlflow_client import convert_param as _convert_param  # noqa: F401 - old name
from dynamics_stats.io._mlflow_client import read_run, with_source
from dynamics_stats.io._mlflow_store import (
    find_run_dir,
    is_run_dir,
    is_sqlite_store,
    load_run_dir,
    load_sqlite,
    pick_message,
    run_dirs_under,
)

__all__ = ["SPEC", "load_uri"]


def _sniff(path: Path) -> bool:
    try:
        if path.is_dir():
            if is_run_dir(path) or path.name == "mlruns":
                return True
            return (path / "meta.yaml").is_file() and bool(run_dirs_under(path))
        if path.is_file() and path.suffix.lower() in {".db", ".sqlite", ".sqlite3"}:
            return is_sqlite_store(path)
    except (OSError, sqlite3.Error):
        return False
    return False


def _load(path: Path, options: LoadOptions) -> RunLog:
    if path.is_file():
        if path.stat().st_size == 0:
            raise LoadError(f"'{path}' is empty; an MLflow SQLite store was expected.")
        return load_sqlite(path, None, source=str(path), shown_uri=f"sqlite:///{path}")
    if is_run_dir(path):
        return load_run_dir(path, source=str(path), shown_uri=path.parent.parent.as_uri())
    runs = run_dirs_under(path)
    if len(runs) != 1:
        root = path.parent if (path / "meta.yaml").is_file() else path
        names = [f"{r.name} (experiment {r.parent.name})" for r in runs]
        raise LoadError(pick_message(str(path), names, root.resolve().as_uri()))
    run = load_run_dir(runs[0], source=str(path), shown_uri=runs[0].parent.parent.as_uri())
    picked = ValidationIssue("mlflow_run", "info", f"'{path}' holds one run: '{runs[0]}'.")
    return with_source(run, run.source, run.files, picked)


SPEC = LoaderSpec(
    format="mlflow",
    description="MLflow run: an mlruns run folder, mlruns folder or SQLite store (.db)",
    sniff=_sniff,
    load=_load,
    extra="mlflow",
)


# --- runs:/ URIs ---------------------------------------------------------------------------


def load_uri(uri: str, options: LoadOptions) -> RunLog:
    """Read the run named by an MLflow ``runs:/<run_id>`` URI.

    Parameters
    ----------
    uri : str
        ``runs:/<run_id>``; an artifact path after the run id is ignored.
    options : LoadOptions
        ``options.tracking_uri`` names the store: ``file:./mlruns``, ``sqlite:///mlflow.db``
        or ``http://host:5000``; the ``MLFLOW_TRACKING_URI`` variable is used when it is None.

    Returns
    -------
    RunLog
        Every metric's history (``wall_time`` in seconds) and the run's parameters as
        ``hparams``, with numbers and booleans turned back from MLflow's text.

    Raises
    ------
    LoadError
        If no tracking URI is given, the run is not in that store, or mlflow is missing.
    """
    run_id = uri[len("runs:/") :].strip("/").split("/")[0]
    tracking_uri = options.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not run_id:
        raise LoadError(f"'{uri}' names no run; write runs:/<run_id>.")
    if not tracking_uri:
        raise LoadError(
            f"'{uri}' needs a tracking URI to find run '{run_id}': pass LoadOptions("
            "tracking_uri='file:./mlruns' or 'sqlite:///mlflow.db' or 'http://host:5000'), "
            "or set MLFLOW_TRACKING_URI."
        )
    scheme = urlparse(tracking_uri).scheme.lower()
    if scheme == "sqlite":
        db = Path(tracking_uri[len("sqlite:///") :].split("?")[0])
        if not db.is_file():
            raise LoadError(f"MLflow tracking URI '{tracking_uri}': no such file '{db}'.")
        return load_sqlite(db, run_id, source=uri, shown_uri=tracking_uri)
    if scheme in {"", "file"} or len(scheme) == 1:  # a path, a file: URI, or C:\...
        from urllib.request import url2pathname  # pulls in http.client and ssl: import late

        is_file_uri = scheme == "file"
        root = Path(url2pathname(unquote(urlparse(tracking_uri).path))) if is_file_uri else None
        run_dir = find_run_dir(root or Path(tracking_uri), run_id, tracking_uri)
        return load_run_dir(run_dir, source=uri, shown_uri=tracking_uri)
    return with_source(read_run(tracking_uri, run_id, shown_uri=tracking_uri), uri, ())
