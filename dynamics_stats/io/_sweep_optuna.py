"""A sweep stored as an Optuna study in an RDB storage (``sqlite:///study.db`` + study name).

Read through Optuna itself. Opening an RDB storage may write (table creation, version
rows), so a local SQLite file is never opened in place: it is copied to a temporary folder
and the copy is read. Each complete trial becomes a run: its parameters, its objective value
and its intermediate values (``trial.report``) as a curve.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io._sweep_types import SweepDirection, SweepRun, SweepSource, python_scalar

__all__ = ["load_optuna_study"]

_INSTALL = "pip install optuna"


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError as err:
        raise LoadError(f"reading an Optuna study needs the optuna package: {_INSTALL}") from err
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _pick_study(optuna: Any, storage: Any, study: str | None, shown: str) -> str:
    names = list(optuna.study.get_all_study_names(storage=storage))
    if study is not None:
        if study not in names:
            raise LoadError(
                f"the Optuna storage '{shown}' has no study named {study!r}. "
                f"Studies: {', '.join(names) or 'none'}."
            )
        return study
    if len(names) != 1:
        raise LoadError(
            f"the Optuna storage '{shown}' holds {len(names)} studies "
            f"({', '.join(names) or 'none'}); name one: optuna:{shown}#<study_name>."
        )
    return str(names[0])


def _trial_run(trial: Any, objective: str, curve_metric: str) -> SweepRun:
    params = tuple((k, python_scalar(v)) for k, v in sorted(trial.params.items()))
    curve = tuple((int(s), float(v)) for s, v in sorted(trial.intermediate_values.items()))
    return SweepRun(
        run_id=f"trial_{trial.number}",
        params=params,
        curve=curve,
        curve_metric=curve_metric if curve else None,
        values=((objective, float(trial.values[0])),),
    )


def _study_source(study: Any, location: str, objective: str | None) -> SweepSource:
    from optuna.trial import TrialState

    direction: SweepDirection = "maximize" if study.directions[0].name == "MAXIMIZE" else "minimize"
    names = study.metric_names
    objective = objective or (names[0] if names else "value")
    curve_metric = objective if objective != "value" else "val_objective"
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    runs = tuple(_trial_run(t, objective, curve_metric) for t in complete)
    limitations = []
    if len(complete) < len(trials):
        states = sorted({t.state.name.lower() for t in trials if t not in complete})
        limitations.append(
            f"{len(trials) - len(complete)} of {len(trials)} trials were left out "
            f"({', '.join(states)}): only complete trials have an objective value."
        )
    if len(study.directions) > 1:
        limitations.append(
            f"the study has {len(study.directions)} objectives; only the first is analysed."
        )
    log_scale = sorted(
        {n for t in complete for n, d in t.distributions.items() if getattr(d, "log", False)}
    )
    return SweepSource(
        kind="optuna",
        location=location,
        runs=runs,
        objective=objective,
        direction=direction,
        per_run_logs=any(r.curve for r in runs),
        log_scale=tuple(log_scale),
        limitations=tuple(limitations),
    )


def load_optuna_study(storage: str, study: str | None, *, objective: str | None) -> SweepSource:
    """Read the complete trials of an Optuna study.

    Parameters
    ----------
    storage : str
        An RDB storage URL (``sqlite:///path/study.db``, ``postgresql://...``) or the path
        of a SQLite file.
    study : str or None
        Study name; may be None when the storage holds exactly one study.
    objective : str or None
        Name given to the objective value; the study's metric name (or ``value``) when None.

    Returns
    -------
    SweepSource

    Raises
    ------
    LoadError
        If optuna is missing, the file does not exist, or the study cannot be found.
    """
    optuna = _import_optuna()
    url = storage if "://" in storage else f"sqlite:///{storage}"
    if not url.startswith("sqlite:///"):
        return _read_storage(optuna, url, study, shown=url, objective=objective)
    db = Path(url[len("sqlite:///") :].split("?")[0])
    if not db.is_file():
        raise LoadError(f"Optuna storage '{url}': no such file '{db}'. Check the path.")
    with tempfile.TemporaryDirectory(prefix="dynamics_stats_optuna_") as tmp:
        copy = Path(tmp) / db.name
        shutil.copyfile(db, copy)
        return _read_storage(optuna, f"sqlite:///{copy}", study, shown=url, objective=objective)


def _read_storage(
    optuna: Any, url: str, study: str | None, *, shown: str, objective: str | None
) -> SweepSource:
    """Read the study from ``url`` (a temporary copy for SQLite) and close the database."""
    from sqlalchemy.exc import SQLAlchemyError

    location = f"optuna:{shown}" + (f"#{study}" if study else "")
    try:
        storage = optuna.storages.RDBStorage(url)
    except (SQLAlchemyError, RuntimeError) as err:
        raise LoadError(f"'{shown}' is not a readable Optuna storage: {err}") from err
    try:
        name = _pick_study(optuna, storage, study, shown)
        loaded = optuna.load_study(study_name=name, storage=storage)
        return _study_source(loaded, location, objective)
    finally:
        storage.engine.dispose()
