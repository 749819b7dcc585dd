"""A sweep stored as an MLflow experiment: a local file store (``mlruns``) or a SQLite store.

The run list and parameters are read straight from the store, read-only (YAML files with
``yaml.safe_load``; SQLite opened with ``mode=ro``), without importing mlflow. Each run's
metric history is read later by `dynamics_stats.io.load_run` from a ``runs:/<id>`` URI, which
works on a temporary copy of the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import yaml

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io._mlflow_client import convert_param
from dynamics_stats.io._mlflow_store import is_run_dir
from dynamics_stats.io._sweep_types import SweepRun

__all__ = ["list_mlflow_runs", "store_path"]


def store_path(tracking_uri: str) -> Path:
    """Return the local path of a ``file:`` / plain-path / ``sqlite:///`` tracking URI.

    Raises
    ------
    LoadError
        For a remote tracking server (only local stores are read for sweeps).
    """
    scheme = urlparse(tracking_uri).scheme.lower()
    if scheme == "sqlite":
        return Path(tracking_uri[len("sqlite:///") :].split("?")[0])
    if scheme == "file":
        return Path(url2pathname(unquote(urlparse(tracking_uri).path)))
    if scheme == "" or len(scheme) == 1:
        return Path(tracking_uri)
    raise LoadError(
        f"MLflow sweeps are read from local stores only; got tracking URI '{tracking_uri}'. "
        "Export the experiment (mlflow-export-import) or pass a file: or sqlite:/// URI."
    )


def _safe_yaml(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _pick(names: dict[str, str], experiment: str | None, where: str) -> str:
    """Id of the experiment named ``experiment`` (or of the only one holding runs)."""
    if experiment is not None:
        for exp_id, name in names.items():
            if experiment in (name, exp_id):
                return exp_id
        raise LoadError(
            f"the MLflow store '{where}' has no experiment named {experiment!r}. "
            f"Experiments: {', '.join(sorted(names.values())) or 'none'}."
        )
    if len(names) != 1:
        raise LoadError(
            f"the MLflow store '{where}' holds {len(names)} experiments with runs "
            f"({', '.join(sorted(names.values())) or 'none'}); name one: "
            f"mlflow:{where}#<experiment_name>."
        )
    return next(iter(names))


def _file_store_runs(root: Path, experiment: str | None) -> list[tuple[str, dict[str, str]]]:
    folders = {p.name: p for p in root.iterdir() if p.is_dir() and (p / "meta.yaml").is_file()}
    names = {}
    for exp_id, folder in folders.items():
        meta = _safe_yaml(folder / "meta.yaml")
        if meta.get("lifecycle_stage") != "deleted" and any(
            is_run_dir(r) for r in folder.iterdir() if r.is_dir()
        ):
            names[exp_id] = str(meta.get("name", exp_id))
    folder = folders[_pick(names, experiment, str(root))]
    runs = []
    for run_dir in sorted(r for r in folder.iterdir() if r.is_dir() and is_run_dir(r)):
        if _safe_yaml(run_dir / "meta.yaml").get("lifecycle_stage") == "deleted":
            continue
        runs.append((run_dir.name, _file_params(run_dir / "params")))
    return runs


def _file_params(params_dir: Path) -> dict[str, str]:
    """Read a file-store run's parameters (``params/<key>`` holds the value as text)."""
    if not params_dir.is_dir():
        return {}
    files = sorted(p for p in params_dir.rglob("*") if p.is_file())
    return {p.relative_to(params_dir).as_posix(): p.read_text(encoding="utf-8") for p in files}


def _sqlite_store_runs(db: Path, experiment: str | None) -> list[tuple[str, dict[str, str]]]:
    from urllib.parse import quote

    conn = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
    try:
        experiments = conn.execute(
            "SELECT e.experiment_id, e.name FROM experiments e WHERE e.lifecycle_stage != "
            "'deleted' AND EXISTS (SELECT 1 FROM runs r WHERE r.experiment_id = e.experiment_id)"
        ).fetchall()
        exp_id = _pick({str(i): str(n) for i, n in experiments}, experiment, f"sqlite:///{db}")
        run_ids = [
            str(r[0])
            for r in conn.execute(
                "SELECT run_uuid FROM runs WHERE experiment_id = ? AND lifecycle_stage != "
                "'deleted' ORDER BY start_time, run_uuid",
                (int(exp_id),),
            )
        ]
        rows = conn.execute("SELECT run_uuid, key, value FROM params").fetchall()
    except sqlite3.Error as err:
        raise LoadError(f"'{db}' is not a readable MLflow SQLite store: {err}.") from err
    finally:
        conn.close()
    params: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
    for run_id, key, value in rows:
        if run_id in params:
            params[run_id][str(key)] = str(value)
    return [(run_id, params[run_id]) for run_id in run_ids]


def list_mlflow_runs(tracking_uri: str, experiment: str | None) -> tuple[SweepRun, ...]:
    """List the runs of an MLflow experiment with their parameters.

    Parameters
    ----------
    tracking_uri : str
        ``file:///path/mlruns``, a path to an ``mlruns`` folder, or ``sqlite:///path.db``.
    experiment : str or None
        Experiment name (or id); None when exactly one experiment holds runs.

    Returns
    -------
    tuple of SweepRun
        One per run that is not deleted, with a ``runs:/<id>`` log URI.

    Raises
    ------
    LoadError
        If the store does not exist or the experiment cannot be found.
    """
    path = store_path(tracking_uri)
    if not path.exists():
        raise LoadError(f"MLflow tracking URI '{tracking_uri}': no such file or folder '{path}'.")
    if path.is_file():
        listed = _sqlite_store_runs(path, experiment)
        uri = f"sqlite:///{path}"
    else:
        listed = _file_store_runs(path, experiment)
        uri = path.resolve().as_uri()
    return tuple(
        SweepRun(
            run_id=run_id,
            params=tuple((k, convert_param(v.strip())) for k, v in sorted(params.items())),
            log=f"runs:/{run_id}",
            tracking_uri=uri,
        )
        for run_id, params in listed
    )
