"""Read one MLflow run through MLflow's own client: `read_run`.

``MlflowClient.get_run`` gives the parameters; the metric history of every key comes from
one column query on SQL stores, else from ``get_metric_history``. mlflow is imported inside
the functions only.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import HParamValue
from dynamics_stats.io._tables import empty_records

__all__ = ["convert_param", "read_run", "with_source"]

_INSTALL = 'pip install "dynamics_stats[mlflow]"'
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


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


def convert_param(text: str) -> HParamValue:
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


def _query_run(
    tracking_uri: str, run_id: str, stage: Callable[[], list[str]] | None
) -> tuple[Any, pd.DataFrame]:
    """Return the run entity and the records of its metrics (MlflowException passes)."""
    import mlflow.tracking

    with _file_store_allowed():
        client = mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
        store = getattr(getattr(client, "_tracking_client", None), "store", None)
        try:
            run = client.get_run(run_id)
            keys = stage() if stage is not None else sorted(run.data.metrics)
            return run, _fetch_records(client, store, run_id, keys)
        finally:
            _dispose_engine(store)


def read_run(
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
        import mlflow.tracking  # noqa: F401 - imported here to report a missing mlflow
        from mlflow.exceptions import MlflowException
    except ImportError as err:
        raise LoadError(f"reading MLflow runs needs the mlflow package: {_INSTALL}") from err
    try:
        run, records = _query_run(tracking_uri, run_id, stage)
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
        hparams={k: convert_param(v) for k, v in sorted(run.data.params.items())},
        notes=(read, *_restore_infinities(records)),
    )


def with_source(
    run: RunLog, source: str, files: tuple[str, ...], *extra: ValidationIssue
) -> RunLog:
    """Return ``run`` as read from ``source`` (``files``), with ``extra`` notes first."""
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
