"""User feedback: labels of runs and outcomes of recommendations, in a local SQLite store.

The store lives in ``$DYNAMICS_STATS_HOME/feedback.sqlite`` (``~/.dynamics_stats`` when the
variable is unset) unless a path is passed. A label keeps the run's fingerprint and its raw
detector score for every kind, so a later refit needs neither the user's files nor a new
analysis. Nothing here changes the user's logs.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pandas as pd

from dynamics_stats.calibration._store import (
    HOME_ENV,
    analyzer_version,
    connect,
    feedback_home,
    fingerprint,
    now,
    store_path,
)
from dynamics_stats.calibration.maps import load_map
from dynamics_stats.calibration.outcomes import (
    OutcomeSummary,
    compare_runs,
    outcome_summary,
    record_outcome,
)
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.errors import InputError, LoadError
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.curves import model_curves
from dynamics_stats.detectors import default_detectors, run_detectors
from dynamics_stats.io import load_run
from dynamics_stats.validate import validate_run

__all__ = [
    "HOME_ENV",
    "OutcomeSummary",
    "compare_runs",
    "feedback_home",
    "fingerprint",
    "import_labels",
    "outcome_summary",
    "parse_present",
    "read_labels",
    "read_run_scores",
    "record_label",
    "record_outcome",
    "score_run",
    "store_path",
]


def score_run(artifacts: TrainingArtifacts) -> dict[str, float]:
    """Return each core kind's raw detector score (NaN when no detector assessed it).

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.

    Returns
    -------
    dict of str to float
        Kind -> the largest score its detectors gave (may be ``inf``).

    Notes
    -----
    The score is the strongest evidence of that kind from the default detectors, the
    same quantity the shipped maps were fitted on.
    """
    evidence = run_detectors(model_curves(artifacts), default_detectors()).evidence
    scores = {kind: math.nan for kind in CORE_KINDS}
    for item in evidence:
        if item.kind in scores and not math.isnan(item.score):
            current = scores[item.kind]
            scores[item.kind] = float(
                item.score if math.isnan(current) else max(current, item.score)
            )
    return scores


def _check_kind(kind: str) -> None:
    if kind not in CORE_KINDS:
        raise InputError(f"unknown problem kind {kind!r}; expected one of {', '.join(CORE_KINDS)}.")


def _insert_label(
    db: sqlite3.Connection,
    artifacts: TrainingArtifacts,
    scores: dict[str, float],
    label: tuple[str, bool, str | None, str | None],
) -> str:
    kind, present, finding, group = label
    key = fingerprint(artifacts)
    calibration = load_map(kinds=CORE_KINDS).info
    db.executemany(
        "INSERT OR REPLACE INTO run_scores VALUES (?, ?, ?)",
        [(key, k, None if math.isnan(v) else v) for k, v in scores.items()],
    )
    db.execute(
        "INSERT INTO labels (fingerprint, kind, present, finding, run_group, source_path, "
        "analyzer_version, calibration_version, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            kind,
            int(present),
            finding,
            group,
            artifacts.source,
            analyzer_version(),
            f"{calibration.name}:{calibration.version}",
            now(),
        ),
    )
    return key


def record_label(
    artifacts: TrainingArtifacts,
    *,
    kind: str,
    present: bool,
    finding: str | None = None,
    store: str | Path | None = None,
) -> str:
    """Store the user's verdict on whether ``kind`` is present in a run.

    The run is scored by `score_run` and every kind's raw score is stored with the label.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    kind : str
        One of the seven core kinds.
    present : bool
        Whether the problem is really there.
    finding : str or None, default=None
        Id of the single finding being labelled, if the label is about one.
    store : str, pathlib.Path or None, default=None
        SQLite file; see `store_path`.

    Returns
    -------
    str
        The run's fingerprint.

    Raises
    ------
    InputError
        If ``kind`` is unknown or the store cannot be opened.
    """
    _check_kind(kind)
    scores = score_run(artifacts)
    with connect(store) as db:
        return _insert_label(db, artifacts, scores, (kind, present, finding, None))


_YES, _NO = ("1", "yes", "y", "true", "t"), ("0", "no", "n", "false", "f")


def parse_present(value: object, *, where: str) -> bool:
    """Read a yes/no value (yes/no, true/false, 1/0), raising `InputError` otherwise."""
    text = str(value).strip().lower()
    if text in _YES or text in _NO:
        return text in _YES
    raise InputError(f"{where}: 'present' must be yes or no (or 1/0, true/false); got {value!r}.")


def _label_table(table: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        frame = table
    else:
        try:
            frame = pd.read_csv(table)
        except (OSError, ValueError) as err:
            raise LoadError(f"cannot read the labels table '{table}': {err}.") from err
    missing = {"path", "kind", "present"} - set(frame.columns)
    if missing:
        raise InputError(
            f"the labels table needs the columns path, kind, present; missing "
            f"{', '.join(sorted(missing))} (got {', '.join(map(str, frame.columns))})."
        )
    return frame


def import_labels(
    table: pd.DataFrame | str | Path, *, store: str | Path | None = None
) -> tuple[str, ...]:
    """Store every row of a labels table (columns ``path``, ``kind``, ``present``).

    An optional ``group`` column names run families (e.g. seeds of one configuration):
    the refit's held-out comparison never splits a family between training and test.

    Each run is loaded, validated and scored once, however many rows name it; all rows are
    stored in one transaction, so a bad row stores nothing. Relative paths in a CSV file
    are taken relative to the file's folder.

    Returns
    -------
    tuple of str
        The fingerprint of each row's run, in row order.

    Raises
    ------
    InputError
        If a column is missing, a kind or ``present`` value is invalid, or a run cannot be
        loaded (`LoadError`); the message names the row.
    """
    frame = _label_table(table)
    base = Path(table).parent if not isinstance(table, pd.DataFrame) else Path()
    rows: list[tuple[str, str, bool, str | None]] = []
    for index, row in enumerate(frame.itertuples(index=False), start=1):
        where = f"labels table row {index}"
        _check_kind(str(row.kind))
        group = getattr(row, "group", None)
        group = None if pd.isna(group) else str(group)
        present = parse_present(row.present, where=where)
        rows.append((str(row.path), str(row.kind), present, group))
    loaded: dict[str, tuple[TrainingArtifacts, dict[str, float]]] = {}
    for path, *_ in rows:
        if path not in loaded:
            artifacts = validate_run(load_run(base / path))
            loaded[path] = (artifacts, score_run(artifacts))
    with connect(store) as db:
        keys = [
            _insert_label(db, *loaded[path], (kind, present, None, group))
            for path, kind, present, group in rows
        ]
    return tuple(keys)


def read_labels(*, store: str | Path | None = None) -> pd.DataFrame:
    """Return the latest label per (run, kind) with that run's raw score of the kind.

    Returns
    -------
    pandas.DataFrame
        Columns ``fingerprint``, ``kind``, ``score`` (NaN when not assessed), ``label``,
        ``run_group`` (None unless the labels table named one).
    """
    query = (
        "SELECT l.fingerprint, l.kind, s.score, l.present AS label, l.run_group FROM labels l "
        "LEFT JOIN run_scores s ON s.fingerprint = l.fingerprint AND s.kind = l.kind "
        "WHERE l.id = (SELECT MAX(id) FROM labels m WHERE m.fingerprint = l.fingerprint "
        "AND m.kind = l.kind) ORDER BY l.id"
    )
    with connect(store) as db:
        frame = pd.read_sql_query(query, db)
    frame["score"] = frame["score"].astype(float)
    group = frame["run_group"].astype(object)
    frame["run_group"] = group.where(group.notna(), None)
    return frame


def read_run_scores(*, store: str | Path | None = None) -> pd.DataFrame:
    """Return the raw scores stored with the labelled runs: one row per run, one column per kind.

    Returns
    -------
    pandas.DataFrame
        Indexed by fingerprint; columns are the core kinds (NaN when not assessed).
    """
    with connect(store) as db:
        long = pd.read_sql_query("SELECT fingerprint, kind, score FROM run_scores", db)
    wide = long.pivot(index="fingerprint", columns="kind", values="score").astype(float)
    return wide.reindex(columns=list(CORE_KINDS))
