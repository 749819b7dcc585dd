"""Read one MLflow run: a local ``mlruns`` store, a SQLite store or a tracking server.

The run is read through MLflow's own client: ``MlflowClient.get_run`` for the parameters
and the metric history of every key. MLflow may write when it opens a store (a ``.trash``
folder, a default experiment, schema migrations), so a local store is never opened in
place: the run's folder, or the SQLite file, is first copied to a temporary folder and
the copy is read.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse
from urllib.request import url2pathname

import numpy as np
import pandas as pd
import yaml

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._tables import empty_records

__all__ = ["SPEC", "load_uri"]

_INSTALL = 'pip install "dynamics_stats[mlflow]"'
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MLFLOW_TABLES = frozenset({"metrics", "runs", "experiments"})
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_MAX_LISTED = 10


# --- recognising a store, without importing mlflow -------------------------------------


def _is_run_dir(path: Path) -> bool:
    return (path / "meta.yaml").is_file() and (path / "metrics").is_dir()


def _run_dirs_under(path: Path) -> list[Path]:
    """Run folders of an experiment folder, or of every experiment of an ``mlruns`` folder."""
    children = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    runs = [p for p in children if _is_run_dir(p)]
    if runs or (path / "meta.yaml").is_file():
        return runs
    return [r for exp in children for r in sorted(exp.iterdir()) if r.is_dir() and _is_run_dir(r)]


def _connect_read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)


def _sqlite_tables(path: Path) -> set[str]:
    with path.open("rb") as handle:
        if handle.read(16) != _SQLITE_MAGIC:
            return set()
    conn = _connect_read_only(path)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    finally:
        conn.close()
    return {str(r[0]) for r in rows}


def _sniff(path: Path) -> bool:
    try:
        if path.is_dir():
            if _is_run_dir(path) or path.name == "mlruns":
                return True
            return (path / "meta.yaml").is_file() and bool(_run_dirs_under(path))
        if path.is_file() and path.suffix.lower() in {".db", ".sqlite", ".sqlite3"}:
            return _sqlite_tables(path) >= _MLFLOW_TABLES
    except (OSError, sqlite3.Error):
        return False
    return False


def _sqlite_runs(db: Path, *, deleted: bool = False) -> list[tuple[str, str]]:
    """(run id, run name) of a SQLite store's runs; deleted runs only if asked or alone."""
    conn = _connect_read_only(db)
    try:
        rows = conn.execute("SELECT run_uuid, name, lifecycle_stage FROM runs").fetchall()
    except sqlite3.Error as err:
        raise LoadError(f"'{db}' is not a readable MLflow SQLite store: {err}.") from err
    finally:
        conn.close()
    active = [r for r in rows if r[2] != "deleted"]
    return sorted((str(r[0]), str(r[1] or "")) for r in (rows if deleted or not active else active))


# --- reading through MlflowClient -------------------------------------------------------


@contextmanager
def _file_store_allowed() -> Iterator[None]:
    """Let MLflow 3 open a file store: it refuses unless MLFLOW_ALLOW_FILE_STORE is set."""
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = old


def _convert_param(text: str) -> HParamValue:
    """MLflow stores parameters as text: turn numbers, booleans and None back."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return {"True": True, "False": False, "None": None}.get(text, text)


def _entity_records(key: str, history: Sequence[Any], *, file_lines: bool) -> pd.DataFrame:
    """Build the records of one metric from MLflow ``Metric`` entities (timestamps in ms)."""
    n_values = len(history)
    return pd.DataFrame(
        {
            "metric": key,
            "step": np.fromiter((m.step for m in history), float, n_values),
            "epoch": np.full(n_values, np.nan),
            "wall_time": np.fromiter((m.timestamp for m in history), float, n_values) / 1000.0,
            "value": np.fromiter((m.value for m in history), float, n_values),
            "line": np.arange(1, n_values + 1) if file_lines else np.zeros(n_values, int),
        }
    )


def _sql_records(store: Any, run_id: str) -> pd.DataFrame | None:
    """Every value of a run from a SQL store in one column query, or None if unsupported.

    MLflow's ``get_metric_history`` builds one ORM object per value (seconds for 100k
    values); this asks the same table through MLflow's own model and session, in the same
    order (timestamp, step, value within a metric), with NaN restored from ``is_nan``.
    """
    try:
        from mlflow.store.tracking.dbmodels.models import SqlMetric

        make_session = store.ManagedSessionMaker
    except (ImportError, AttributeError):
        return None
    columns = (SqlMetric.key, SqlMetric.step, SqlMetric.timestamp, SqlMetric.value)
    with make_session() as session:
        rows = (
            session.query(*columns, SqlMetric.is_nan)
            .filter(SqlMetric.run_uuid == run_id)
            .order_by(SqlMetric.key, SqlMetric.timestamp, SqlMetric.step, SqlMetric.value)
            .all()
        )
    if not rows:
        return empty_records()
    keys, steps, times, values, nans = zip(*rows, strict=True)
    value = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {
            "metric": np.asarray(keys, dtype=object),
            "step": np.asarray(steps, dtype=float),
            "epoch": np.full(len(rows), np.nan),
            "wall_time": np.asarray(times, dtype=float) / 1000.0,
            "value": np.where(np.asarray(nans, dtype=bool), np.nan, value),
            "line": np.zeros(len(rows), dtype=np.int64),
        }
    )


def _fetch_records(client: Any, store: Any, run_id: str, keys: list[str]) -> pd.DataFrame:
    """All values of the run's metrics: one query for SQL stores, else one call per key."""
    kind = type(store).__name__
    if kind == "SqlAlchemyStore" and (records := _sql_records(store, run_id)) is not None:
        return records
    if kind == "FileStore":  # reads each metric file once, where the client pages through it
        histories = [store.get_metric_history(run_id, k, max_results=None) for k in keys]
    else:
        histories = [client.get_metric_history(run_id, k) for k in keys]
    file_lines = kind == "FileStore"
    parts = [
        _entity_records(k, h, file_lines=file_lines)
        for k, h in zip(keys, histories, strict=True)
        if h
    ]
    return pd.concat(parts, ignore_index=True) if parts else empty_records()


def _restore_infinities(records: pd.DataFrame) -> tuple[ValidationIssue, ...]:
    """MLflow's SQL stores save +/-inf as +/-1.797e308: read those back as infinities."""
    values = pd.to_numeric(records["value"], errors="coerce").to_numpy(dtype=float)
    clipped = np.abs(values) == sys.float_info.max
    if not clipped.any():
        return ()
    records["value"] = np.where(clipped, np.sign(values) * np.inf, values)
    names = ", ".join(sorted(set(records.loc[clipped, "metric"])))
    message = (
        f"{int(clipped.sum())} values stored by MLflow as +/-1.797e308 (its SQL stores cannot "
        f"hold infinity) were read as +/-inf, in {names}."
    )
    return (ValidationIssue("mlflow_infinity", "repaired", message, n_affected=int(clipped.sum())),)


def _dispose_engine(store: Any) -> None:
    """Close the SQLAlchemy engine MLflow keeps open on a temporary SQLite copy."""
    engine = getattr(store, "engine", None)
    if engine is not None:
        engine.dispose()
        getattr(type(store), "_engine_map", {}).pop(getattr(store, "db_uri", None), None)


def _read_run(
    tracking_uri: str,
    run_id: str,
    *,
    shown_uri: str,
    stage: Callable[[], list[str]] | None = None,
) -> RunLog:
    """Read one run through MlflowClient.

    ``shown_uri`` is the store named in messages; ``stage``, when given, is called after
    ``get_run`` to put the metrics in place and returns their names.
    """
    try:
        import mlflow.tracking
        from mlflow.exceptions import MlflowException
    except ImportError as err:
        raise LoadError(f"reading MLflow runs needs the mlflow package: {_INSTALL}") from err
    try:
        with _file_store_allowed():
            client = mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
            store = getattr(getattr(client, "_tracking_client", None), "store", None)
            try:
                run = client.get_run(run_id)
                keys = stage() if stage is not None else sorted(run.data.metrics)
                records = _fetch_records(client, store, run_id, keys)
            finally:
                _dispose_engine(store)
    except MlflowException as err:
        raise LoadError(
            f"cannot read MLflow run '{run_id}' from tracking URI '{shown_uri}': {err.message} "
            "Check the run id (MLflow UI: run page, 'Run ID') and the tracking URI."
        ) from err
    name = f" ({run.info.run_name})" if run.info.run_name else ""
    read = ValidationIssue("mlflow_run", "info", f"read MLflow run '{run_id}'{name}.")
    return RunLog(
        source=shown_uri,
        format="mlflow",
        records=records,
        step_unit="step",
        hparams={k: _convert_param(v) for k, v in sorted(run.data.params.items())},
        notes=(read, *_restore_infinities(records)),
    )


def _with_source(
    run: RunLog, source: str, files: tuple[str, ...], *extra: ValidationIssue
) -> RunLog:
    return RunLog(
        source=source,
        format=run.format,
        records=run.records,
        step_unit=run.step_unit,
        hparams=run.hparams,
        role_hints=run.role_hints,
        notes=(*extra, *run.notes),
        files=files,
    )


# --- local stores, read from a temporary copy -------------------------------------------


def _metric_keys(metrics_dir: Path) -> list[str]:
    """Metric names of a file-store run (``train/loss`` is the file ``metrics/train/loss``)."""
    return sorted(
        p.relative_to(metrics_dir).as_posix() for p in metrics_dir.rglob("*") if p.is_file()
    )


def _load_run_dir(run_dir: Path, *, source: str, shown_uri: str) -> RunLog:
    """Copy a file-store run's meta.yaml, params, tags and metrics to a temporary store.

    The metrics are copied after ``get_run``, which would otherwise read every metric file
    in full only to find the latest values.
    """
    meta_path = run_dir / "meta.yaml"
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise LoadError(f"cannot read '{meta_path}': {err}. Is it an MLflow run?") from err
    if not isinstance(meta, dict):
        raise LoadError(f"'{meta_path}' is not an MLflow run's meta.yaml (got {meta!r}).")
    experiment_id = str(meta.get("experiment_id", run_dir.parent.name))
    with tempfile.TemporaryDirectory(prefix="dynamics_stats_", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp) / "mlruns"
        target = root / experiment_id / run_dir.name
        for folder in ("metrics", "params", "tags", "artifacts"):  # FileStore checks for them
            (target / folder).mkdir(parents=True)
        (root / ".trash").mkdir()
        shutil.copy2(meta_path, target / "meta.yaml")
        for folder in ("params", "tags"):
            if (run_dir / folder).is_dir():
                shutil.copytree(run_dir / folder, target / folder, dirs_exist_ok=True)

        def stage_metrics() -> list[str]:
            shutil.copytree(run_dir / "metrics", target / "metrics", dirs_exist_ok=True)
            return _metric_keys(target / "metrics")

        run = _read_run(root.as_uri(), run_dir.name, shown_uri=shown_uri, stage=stage_metrics)
    files = [meta_path, *(run_dir / "metrics" / key for key in _metric_keys(run_dir / "metrics"))]
    return _with_source(run, source, tuple(str(p) for p in files))


def _load_sqlite(db: Path, run_id: str | None, *, source: str, shown_uri: str) -> RunLog:
    """Copy a SQLite store with SQLite's backup API (consistent, WAL included), read the copy."""
    if run_id is None:
        runs = _sqlite_runs(db)
        if len(runs) != 1:
            raise LoadError(_pick_message(source, [f"{i} ({n})" for i, n in runs], shown_uri))
        run_id = runs[0][0]
    elif run_id not in {r for r, _ in _sqlite_runs(db, deleted=True)}:
        raise LoadError(
            f"no MLflow run '{run_id}' in tracking URI '{shown_uri}'. Check the run id."
        )
    with tempfile.TemporaryDirectory(prefix="dynamics_stats_", ignore_cleanup_errors=True) as tmp:
        copy = Path(tmp) / "mlflow.db"
        src, dst = _connect_read_only(db), sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        run = _read_run(f"sqlite:///{copy}", run_id, shown_uri=shown_uri)
    return _with_source(run, source, (str(db),))


def _pick_message(source: str, runs: list[str], shown_uri: str) -> str:
    if not runs:
        return f"'{source}' holds no MLflow run. Check the path or the tracking URI."
    listed = ", ".join(runs[:_MAX_LISTED]) + (", ..." if len(runs) > _MAX_LISTED else "")
    return (
        f"'{source}' holds {len(runs)} MLflow runs: {listed}. Pick one: pass its run folder, or "
        f"load_run('runs:/<run_id>', options=LoadOptions(tracking_uri='{shown_uri}'))."
    )


def _load(path: Path, options: LoadOptions) -> RunLog:
    if path.is_file():
        if path.stat().st_size == 0:
            raise LoadError(f"'{path}' is empty; an MLflow SQLite store was expected.")
        return _load_sqlite(path, None, source=str(path), shown_uri=f"sqlite:///{path}")
    if _is_run_dir(path):
        return _load_run_dir(path, source=str(path), shown_uri=path.parent.parent.as_uri())
    runs = _run_dirs_under(path)
    if len(runs) != 1:
        root = path.parent if (path / "meta.yaml").is_file() else path
        names = [f"{r.name} (experiment {r.parent.name})" for r in runs]
        raise LoadError(_pick_message(str(path), names, root.resolve().as_uri()))
    run = _load_run_dir(runs[0], source=str(path), shown_uri=runs[0].parent.parent.as_uri())
    picked = ValidationIssue("mlflow_run", "info", f"'{path}' holds one run: '{runs[0]}'.")
    return _with_source(run, run.source, run.files, picked)


SPEC = LoaderSpec(
    format="mlflow",
    description="MLflow run: an mlruns run folder, mlruns folder or SQLite store (.db)",
    sniff=_sniff,
    load=_load,
    extra="mlflow",
)


# --- runs:/ URIs ---------------------------------------------------------------------------


def _find_run_dir(root: Path, run_id: str, tracking_uri: str) -> Path:
    if not root.is_dir():
        raise LoadError(f"MLflow tracking URI '{tracking_uri}' is not a folder ('{root}').")
    for parent in (root, root / ".trash"):
        for candidate in sorted(parent.glob(f"*/{run_id}")):
            if _is_run_dir(candidate):
                return candidate
    known = ", ".join(r.name for r in _run_dirs_under(root)[:_MAX_LISTED]) or "none"
    raise LoadError(
        f"no MLflow run '{run_id}' in tracking URI '{tracking_uri}' (runs there: {known}). "
        "Check the run id and the tracking URI."
    )


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
        return _load_sqlite(db, run_id, source=uri, shown_uri=tracking_uri)
    if scheme in {"", "file"} or len(scheme) == 1:  # a path, a file: URI, or C:\...
        is_file_uri = scheme == "file"
        root = Path(url2pathname(unquote(urlparse(tracking_uri).path))) if is_file_uri else None
        run_dir = _find_run_dir(root or Path(tracking_uri), run_id, tracking_uri)
        return _load_run_dir(run_dir, source=uri, shown_uri=tracking_uri)
    return _with_source(_read_run(tracking_uri, run_id, shown_uri=tracking_uri), uri, ())
