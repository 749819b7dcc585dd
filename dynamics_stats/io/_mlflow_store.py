"""Find MLflow runs in local stores and read them from a temporary copy.

MLflow may write when it opens a store (a ``.trash`` folder, a default experiment, schema
migrations), so a local store is never opened in place: the run's folder, or the SQLite
file, is first copied to a temporary folder and the copy is read. Recognising a store
(`is_run_dir`, `run_dirs_under`, `is_sqlite_store`) never imports mlflow.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io._mlflow_client import read_run, with_source

__all__ = [
    "find_run_dir",
    "is_run_dir",
    "is_sqlite_store",
    "load_run_dir",
    "load_sqlite",
    "pick_message",
    "run_dirs_under",
]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_MLFLOW_TABLES = frozenset({"metrics", "runs", "experiments"})
_MAX_LISTED = 10


def is_run_dir(path: Path) -> bool:
    """Whether a folder is a file-store run (``meta.yaml`` beside a ``metrics`` folder)."""
    return (path / "meta.yaml").is_file() and (path / "metrics").is_dir()


def run_dirs_under(path: Path) -> list[Path]:
    """Run folders of an experiment folder, or of every experiment of an ``mlruns`` folder."""
    children = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    runs = [p for p in children if is_run_dir(p)]
    if runs or (path / "meta.yaml").is_file():
        return runs
    return [r for exp in children for r in sorted(exp.iterdir()) if r.is_dir() and is_run_dir(r)]


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


def is_sqlite_store(path: Path) -> bool:
    """Whether a file is a SQLite database holding MLflow's tables.

    Raises `OSError` or `sqlite3.Error` if the file cannot be read.
    """
    return _sqlite_tables(path) >= _MLFLOW_TABLES


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


def _metric_keys(metrics_dir: Path) -> list[str]:
    """Metric names of a file-store run (``train/loss`` is the file ``metrics/train/loss``)."""
    return sorted(
        p.relative_to(metrics_dir).as_posix() for p in metrics_dir.rglob("*") if p.is_file()
    )


def load_run_dir(run_dir: Path, *, source: str, shown_uri: str) -> RunLog:
    """Copy a file-store run's meta.yaml, params, tags and metrics to a temporary store.

    The metrics are copied after ``get_run``, which would otherwise read every metric file
    in full only to find the latest values.
    """
    import yaml  # only file-store runs need it; keeps it out of the start-up

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

        run = read_run(root.as_uri(), run_dir.name, shown_uri=shown_uri, stage=stage_metrics)
    files = [meta_path, *(run_dir / "metrics" / key for key in _metric_keys(run_dir / "metrics"))]
    return with_source(run, source, tuple(str(p) for p in files))


def load_sqlite(db: Path, run_id: str | None, *, source: str, shown_uri: str) -> RunLog:
    """Copy a SQLite store with SQLite's backup API (consistent, WAL included), read the copy."""
    if run_id is None:
        runs = _sqlite_runs(db)
        if len(runs) != 1:
            raise LoadError(pick_message(source, [f"{i} ({n})" for i, n in runs], shown_uri))
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
        run = read_run(f"sqlite:///{copy}", run_id, shown_uri=shown_uri)
    return with_source(run, source, (str(db),))


def pick_message(source: str, runs: list[str], shown_uri: str) -> str:
    """Say that ``source`` holds no run, or several, and how to pick one."""
    if not runs:
        return f"'{source}' holds no MLflow run. Check the path or the tracking URI."
    listed = ", ".join(runs[:_MAX_LISTED]) + (", ..." if len(runs) > _MAX_LISTED else "")
    return (
        f"'{source}' holds {len(runs)} MLflow runs: {listed}. Pick one: pass its run folder, or "
        f"load_run('runs:/<run_id>', options=LoadOptions(tracking_uri='{shown_uri}'))."
    )


def find_run_dir(root: Path, run_id: str, tracking_uri: str) -> Path:
    """Return the folder of run ``run_id`` in an ``mlruns`` folder (deleted runs included)."""
    if not root.is_dir():
        raise LoadError(f"MLflow tracking URI '{tracking_uri}' is not a folder ('{root}').")
    for parent in (root, root / ".trash"):
        for candidate in sorted(parent.glob(f"*/{run_id}")):
            if is_run_dir(candidate):
                return candidate
    known = ", ".join(r.name for r in run_dirs_under(root)[:_MAX_LISTED]) or "none"
    raise LoadError(
        f"no MLflow run '{run_id}' in tracking URI '{tracking_uri}' (runs there: {known}). "
        "Check the run id and the tracking URI."
    )
