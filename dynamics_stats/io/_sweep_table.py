"""A sweep stored as one table row per run: a W&B runs-table export or a plain CSV.

A W&B export (the project table's "Export CSV") has ``Name`` and ``State`` columns,
bookkeeping columns (``Created``, ``Runtime``, ``Sweep``...) and then config and summary
columns, sometimes prefixed ``config.`` / ``summary.``. A plain table has an optional id
column (``run_id``, ``run``, ``id``, ``name``, ``trial``), parameter columns and outcome
columns. Columns whose name looks like a metric (loss, accuracy, ``val_``, ``train/``...)
or that carry the ``summary.`` prefix are outcomes; every other column is a parameter.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io._sweep_types import SweepKind, SweepRun, python_scalar

__all__ = ["is_wandb_export", "read_run_table"]

_WANDB_META = frozenset(
    {
        "name", "id", "state", "notes", "user", "tags", "created", "updated", "runtime",
        "sweep", "group", "job type", "end time", "hostname", "description", "commit",
        "github", "gpu count", "gpu type", "host", "os", "python", "heartbeat",
    }
)  # fmt: skip
_ID_COLUMNS = ("run_id", "run", "id", "name", "trial", "trial_id", "ID", "Name")
_METRIC = re.compile(
    r"(^|[_/.\s-])(loss|acc|accuracy|f1|auc|perplexity|ppl|score|error|bleu|rouge|reward)"
    r"|^(train|val|valid|validation|eval|test)[_/.]|/",
    re.IGNORECASE,
)


def is_wandb_export(columns: list[str]) -> bool:
    """Whether a table header is a W&B runs-table export (``Name`` and ``State`` columns)."""
    return "Name" in columns and "State" in columns


def _read(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise LoadError(f"cannot read the sweep table '{path}': {err}. Expected a CSV.") from err
    if frame.empty:
        raise LoadError(f"the sweep table '{path}' has no rows; expected one row per run.")
    return frame


def _run_ids(frame: pd.DataFrame, wandb: bool) -> list[str]:
    column = next((c for c in (("ID", "Name") if wandb else _ID_COLUMNS) if c in frame), None)
    if column is None:
        return [f"row_{i}" for i in range(len(frame))]
    ids = [str(v) for v in frame[column]]
    if len(set(ids)) < len(ids):
        return [f"{value}#{i}" for i, value in enumerate(ids)]
    return ids


def _is_outcome(name: str, objective: str) -> bool:
    if name == objective or name.startswith("summary."):
        return True
    return not name.startswith("config.") and bool(_METRIC.search(name))


def _split_columns(frame: pd.DataFrame, wandb: bool, objective: str) -> tuple[list, list]:  # type: ignore[type-arg]
    """Parameter and outcome columns; ids, W&B bookkeeping and ``_`` columns are dropped."""
    id_names = {c.lower() for c in _ID_COLUMNS}
    params, outcomes = [], []
    for column in frame.columns:
        name = str(column)
        if _is_outcome(name, objective):
            outcomes.append(column)
        elif not (name.startswith("_") or name.lower() in (_WANDB_META if wandb else id_names)):
            params.append(column)
    return params, outcomes


def pick_objective(columns: list[str], objective: str | None, where: str) -> str:
    """Return the objective column: as named, else ``val_loss``-like, else the first loss column."""
    if objective is not None:
        for candidate in (objective, f"summary.{objective}"):
            if candidate in columns:
                return candidate
        raise LoadError(
            f"the sweep table '{where}' has no column {objective!r}. Columns: "
            f"{', '.join(columns)}. Pass --objective with one of them."
        )
    for pattern in (r"^(summary\.)?val[_/]?loss$", r"val.*loss|loss.*val", r"loss"):
        found = [c for c in columns if re.search(pattern, c, re.IGNORECASE)]
        if found:
            return found[0]
    raise LoadError(
        f"cannot tell the objective of the sweep table '{where}' (no loss column among "
        f"{', '.join(columns)}). Pass --objective with the column to optimise."
    )


def read_run_table(
    path: Path, *, objective: str | None
) -> tuple[SweepKind, str, tuple[SweepRun, ...], tuple[str, ...]]:
    """Read a one-row-per-run table (W&B export or plain CSV).

    Parameters
    ----------
    path : pathlib.Path
        The CSV file.
    objective : str or None
        The objective column; chosen from the loss columns when None.

    Returns
    -------
    (kind, objective, runs, limitations)
        ``"wandb_export"`` or ``"table"``, the objective column, one run per row with
        the objective and other outcomes as ``values``, and rows left out.

    Raises
    ------
    LoadError
        If the file cannot be read, is empty, or has no usable objective column.
    """
    frame = _read(path)
    columns = [str(c) for c in frame.columns]
    wandb = is_wandb_export(columns)
    objective = pick_objective(columns, objective, str(path))
    params, outcomes = _split_columns(frame, wandb, objective)
    if not params:
        raise LoadError(
            f"the sweep table '{path}' has no parameter column (all columns look like "
            f"metrics: {', '.join(columns)}). Rename the parameter columns."
        )
    runs, missing = [], []
    for run_id, (_, row) in zip(
        _run_ids(frame, wandb), frame.astype(object).iterrows(), strict=True
    ):
        values = pd.to_numeric(row[outcomes], errors="coerce")
        if pd.isna(values[objective]):
            missing.append(run_id)
            continue
        runs.append(
            SweepRun(
                run_id=run_id,
                params=tuple(
                    (str(c).removeprefix("config."), python_scalar(row[c])) for c in params
                ),
                values=tuple((str(c), float(v)) for c, v in values.items() if pd.notna(v)),
            )
        )
    limitations: tuple[str, ...] = ()
    if missing:
        limitations = (
            f"{len(missing)} of {len(frame)} rows have no value of {objective!r} and were left "
            f"out: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}.",
        )
    return ("wandb_export" if wandb else "table"), objective, tuple(runs), limitations
