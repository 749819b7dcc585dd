"""Read a sweep: which runs it has, where their logs are, and each run's hyper-parameters.

`load_sweep` accepts

- a folder of runs, one sub-folder per run in any format `load_run` reads
  (hyper-parameters from Lightning's ``hparams.yaml``, HF trainer arguments, MLflow params);
- an Optuna study in an RDB storage: ``optuna:sqlite:///study.db#study_name`` (or the
  ``.db`` path with ``study=``);
- an MLflow experiment in a local store: ``mlflow:file:///path/mlruns#experiment`` or
  ``mlflow:sqlite:///mlflow.db#experiment`` (or an ``mlruns`` folder with ``experiment=``);
- a W&B runs-table export (CSV with ``Name`` and ``State`` columns);
- a plain CSV table, one row per run: parameter columns and outcome columns.

Nothing is written to the sweep's files or stores.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io._mlflow_store import is_run_dir
from dynamics_stats.io._sweep_folder import list_folder_runs
from dynamics_stats.io._sweep_mlflow import list_mlflow_runs, store_path
from dynamics_stats.io._sweep_optuna import load_optuna_study
from dynamics_stats.io._sweep_table import read_run_table
from dynamics_stats.io._sweep_types import (
    SweepDirection,
    SweepRun,
    SweepSource,
    guess_direction,
)

__all__ = ["SweepRun", "SweepSource", "load_sweep"]

_SQLITE_SUFFIXES = frozenset({".db", ".sqlite", ".sqlite3"})
_OPTUNA_TABLES = frozenset({"studies", "trials", "trial_params"})
_MLFLOW_TABLES = frozenset({"experiments", "runs", "metrics"})


def load_sweep(
    source: str | Path,
    *,
    objective: str | None = None,
    direction: SweepDirection | None = None,
    study: str | None = None,
    experiment: str | None = None,
) -> SweepSource:
    r"""List the runs of a sweep and their hyper-parameters (logs are read later, per run).

    Parameters
    ----------
    source : str or pathlib.Path
        A folder of runs, a CSV table, an ``optuna:<storage>#<study>`` or
        ``mlflow:<tracking_uri>#<experiment>`` URI, or a SQLite file of either.
    objective : str or None, default=None
        The metric to optimise: a metric name or role (``val_loss``) for runs with logs,
        a column for tables. None: the validation loss (tables: a loss column; Optuna: the
        study's objective value).
    direction : {"minimize", "maximize"} or None, default=None
        Overrides the direction (Optuna's own, or guessed from the objective's name).
    study : str or None, default=None
        Optuna study name, when not given after ``#``.
    experiment : str or None, default=None
        MLflow experiment name, when not given after ``#``.

    Returns
    -------
    SweepSource
        The runs, the objective and direction, and limitations (rows or trials left out,
        unreadable hyper-parameters).

    Raises
    ------
    LoadError
        If the source does not exist, its kind cannot be told, or it holds no run.

    Examples
    --------
    >>> from pathlib import Path
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "sweep.csv").write_text("lr,layers,val_loss\n0.1,2,0.5\n0.01,3,0.4\n")
    >>> sweep = load_sweep(folder / "sweep.csv")
    >>> sweep.kind, sweep.objective, sweep.direction, sweep.runs[1].params
    ('table', 'val_loss', 'minimize', (('lr', 0.01), ('layers', 3)))
    """
    sweep = _dispatch(str(source), objective=objective, study=study, experiment=experiment)
    if not sweep.runs:
        raise LoadError(
            f"the sweep '{source}' holds no usable run. "
            + (" ".join(sweep.limitations) or "Check the path.")
        )
    chosen = direction or sweep.direction
    if chosen is None and sweep.objective is not None and not sweep.per_run_logs:
        chosen = guess_direction(sweep.objective)
    if chosen not in (None, "minimize", "maximize"):
        raise LoadError(f"direction must be 'minimize' or 'maximize'; got {direction!r}.")
    return replace(sweep, direction=chosen)


def _dispatch(
    text: str, *, objective: str | None, study: str | None, experiment: str | None
) -> SweepSource:
    scheme, _, rest = text.partition(":")
    if scheme == "optuna" and rest:
        storage, _, name = rest.partition("#")
        return load_optuna_study(storage, name or study, objective=objective)
    if scheme == "mlflow" and rest:
        uri, _, name = rest.partition("#")
        return _mlflow_sweep(uri, name or experiment, objective=objective)
    if text.startswith("sqlite:///"):
        return _sqlite_sweep(store_path(text), objective=objective, name=study or experiment)
    path = Path(text)
    if not path.exists():
        raise LoadError(
            f"no such file or folder: '{path}'. A sweep is a folder of runs, a CSV table, "
            "optuna:sqlite:///study.db#name or mlflow:<tracking_uri>#experiment."
        )
    if path.is_file() and path.suffix.lower() in _SQLITE_SUFFIXES:
        return _sqlite_sweep(path, objective=objective, name=study or experiment)
    if path.is_file():
        kind, column, runs, limitations = read_run_table(path, objective=objective)
        return SweepSource(kind, str(path), runs, column, None, False, (), limitations)
    if _is_mlflow_store(path):
        return _mlflow_sweep(str(path), experiment, objective=objective)
    runs, limitations = list_folder_runs(path)
    return SweepSource("folder", str(path), runs, objective, None, True, (), limitations)


def _mlflow_sweep(uri: str, experiment: str | None, *, objective: str | None) -> SweepSource:
    runs = list_mlflow_runs(uri, experiment)
    location = f"mlflow:{uri}" + (f"#{experiment}" if experiment else "")
    return SweepSource("mlflow", location, runs, objective, None, True)


def _sqlite_tables(db: Path) -> set[str]:
    try:
        conn = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise LoadError(f"'{db}' is not a readable SQLite database: {err}.") from err
    return {str(r[0]) for r in rows}


def _sqlite_sweep(db: Path, *, objective: str | None, name: str | None) -> SweepSource:
    if not db.is_file():
        raise LoadError(f"no such file: '{db}'. Check the path of the SQLite store.")
    tables = _sqlite_tables(db)
    if tables >= _OPTUNA_TABLES:
        return load_optuna_study(f"sqlite:///{db}", name, objective=objective)
    if tables >= _MLFLOW_TABLES:
        return _mlflow_sweep(f"sqlite:///{db}", name, objective=objective)
    raise LoadError(
        f"'{db}' is neither an Optuna nor an MLflow SQLite store (tables: "
        f"{', '.join(sorted(tables)) or 'none'})."
    )


def _is_mlflow_store(path: Path) -> bool:
    """Tell an ``mlruns`` folder: experiment folders (``meta.yaml``) holding run folders."""
    experiments = [
        child
        for child in path.iterdir()
        if child.is_dir() and (child / "meta.yaml").is_file() and not is_run_dir(child)
    ]
    return any(is_run_dir(r) for exp in experiments for r in exp.iterdir() if r.is_dir())
