"""The local SQLite feedback store: where it lives, its tables, and run fingerprints."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.errors import InputError

__all__ = [
    "HOME_ENV",
    "analyzer_version",
    "connect",
    "feedback_home",
    "fingerprint",
    "now",
    "store_path",
]

HOME_ENV = "DYNAMICS_STATS_HOME"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, kind TEXT NOT NULL,
    present INTEGER NOT NULL, finding TEXT, run_group TEXT, source_path TEXT,
    analyzer_version TEXT,
    calibration_version TEXT, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_scores (
    fingerprint TEXT NOT NULL, kind TEXT NOT NULL, score REAL,
    PRIMARY KEY (fingerprint, kind));
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, action TEXT NOT NULL,
    applied INTEGER NOT NULL, next_path TEXT, next_fingerprint TEXT, objective TEXT,
    best_before REAL, best_after REAL, improved INTEGER, analyzer_version TEXT,
    created TEXT NOT NULL);
"""


def feedback_home() -> Path:
    """Return the user folder: ``$DYNAMICS_STATS_HOME``, else ``~/.dynamics_stats``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".dynamics_stats"


def store_path(path: str | Path | None = None) -> Path:
    """Return the SQLite file to use: ``path``, else ``feedback_home() / "feedback.sqlite"``."""
    return Path(path).expanduser() if path is not None else feedback_home() / "feedback.sqlite"


@contextmanager
def connect(path: str | Path | None) -> Iterator[sqlite3.Connection]:
    """Open the store (creating folder and tables) as a transaction; close it after."""
    target = store_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(target)
    except (OSError, sqlite3.Error) as err:
        raise InputError(
            f"cannot open the feedback store '{target}': {err}. Pass another path or set "
            f"{HOME_ENV} to a writable folder."
        ) from err
    try:
        try:
            connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as err:
            raise InputError(
                f"'{target}' is not a dynamics_stats feedback store ({err}). Pass another "
                f"path or set {HOME_ENV} to another folder; the file was left unchanged."
            ) from err
        with connection:
            yield connection
    finally:
        connection.close()


def analyzer_version() -> str:
    """Return the installed dynamics_stats version."""
    try:
        return version("dynamics_stats")
    except PackageNotFoundError:  # pragma: no cover - not installed
        return "unknown"


def now() -> str:
    """Return the current UTC time in ISO format."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def fingerprint(artifacts: TrainingArtifacts) -> str:
    """Return a hash of the run's validated metric names, roles, steps and values.

    Two loads of the same log give the same fingerprint, whatever its path; any change
    of a logged value gives another.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.

    Returns
    -------
    str
        16 hex digits of a SHA-256.

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.io.synthetic import make_run
    >>> a = validate_run(make_run("stalled", seed=1)[0])
    >>> fingerprint(a) == fingerprint(validate_run(make_run("stalled", seed=1)[0]))
    True
    """
    digest = hashlib.sha256()
    for series in sorted(artifacts.metrics, key=lambda s: s.name):
        digest.update(f"{series.name}\0{series.role}\0".encode())
        digest.update(np.ascontiguousarray(series.steps, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(series.values, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]
