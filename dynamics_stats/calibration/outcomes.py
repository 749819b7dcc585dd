"""Outcomes of recommendations: applied or not, and whether the next run improved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dynamics_stats.calibration._store import analyzer_version, connect, fingerprint, now
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.errors import InputError

__all__ = ["OutcomeSummary", "compare_runs", "outcome_summary", "record_outcome"]


def _best(artifacts: TrainingArtifacts, role: str) -> float:
    series = artifacts.get(role)  # type: ignore[arg-type]
    values = np.asarray(series.values, dtype=float) if series is not None else np.array([])
    finite = values[np.isfinite(values)]
    return float(finite.min()) if finite.size else math.nan


def compare_runs(
    before: TrainingArtifacts, after: TrainingArtifacts
) -> tuple[str, float, float, bool | None]:
    """Compare two runs by the lowest validation loss (training loss if either lacks one).

    Returns
    -------
    tuple of (str, float, float, bool or None)
        The objective's role, its best value before and after, and whether it improved
        (None when either run has no finite value of it).
    """
    role = "val_loss" if before.get("val_loss") and after.get("val_loss") else "train_loss"
    best_before, best_after = _best(before, role), _best(after, role)
    if not (math.isfinite(best_before) and math.isfinite(best_after)):
        return role, best_before, best_after, None
    return role, best_before, best_after, best_after < best_before


def record_outcome(
    artifacts: TrainingArtifacts,
    *,
    action: str,
    applied: bool,
    next_run: TrainingArtifacts | None = None,
    store: str | Path | None = None,
) -> bool | None:
    """Store whether a recommendation was applied and whether the next run improved.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The run the recommendation was made for.
    action : str
        The recommendation's action code.
    applied : bool
        Whether the user applied it.
    next_run : TrainingArtifacts or None, default=None
        The run trained after it; improvement is judged by `compare_runs`.
    store : str, pathlib.Path or None, default=None
        SQLite file; see `store_path`.

    Returns
    -------
    bool or None
        Whether the next run improved; None without a comparable next run.
    """
    if not action.strip():
        raise InputError("record_outcome needs the recommendation's action code; got ''.")
    role, before, after, improved = (
        compare_runs(artifacts, next_run)
        if next_run is not None
        else ("", math.nan, math.nan, None)
    )
    row = (
        fingerprint(artifacts),
        action,
        int(applied),
        next_run.source if next_run else None,
        fingerprint(next_run) if next_run else None,
        role or None,
        before if math.isfinite(before) else None,
        after if math.isfinite(after) else None,
        None if improved is None else int(improved),
        analyzer_version(),
        now(),
    )
    with connect(store) as db:
        db.execute(
            "INSERT INTO outcomes (fingerprint, action, applied, next_path, next_fingerprint, "
            "objective, best_before, best_after, improved, analyzer_version, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
    return improved


@dataclass(frozen=True, slots=True)
class OutcomeSummary:
    """How often applied recommendations were followed by a better run.

    Parameters
    ----------
    rows : tuple of (str, int, int, int, int)
        Per action: action, times recorded, times applied, applied with a judged next run,
        applied and improved.
    """

    rows: tuple[tuple[str, int, int, int, int], ...]

    def rate(self, action: str | None = None) -> float:
        """Return the rate "applied and improved" among applied with a judged next run."""
        rows = [r for r in self.rows if action is None or r[0] == action]
        judged = sum(r[3] for r in rows)
        return sum(r[4] for r in rows) / judged if judged else math.nan

    def summary(self) -> str:
        """Return a fixed-width table, one line per action and a total line."""
        header = ("action", "recorded", "applied", "judged", "improved", "rate")
        lines = [f"{header[0]:<28}" + "".join(f"{h:>10}" for h in header[1:])]
        table: list[tuple[str, tuple[int, ...]]] = [(r[0], r[1:]) for r in self.rows]
        totals = tuple(int(sum(column)) for column in zip(*(c for _, c in table), strict=True))
        totals = totals or (0, 0, 0, 0)
        for action, counts in [*table, ("all", totals)]:
            rate = self.rate(None if action == "all" else action)
            shown = "-" if math.isnan(rate) else f"{rate:.2f}"
            lines.append(f"{action:<28}" + "".join(f"{c:>10}" for c in (*counts, shown)))
        return "\n".join(lines)


def outcome_summary(*, store: str | Path | None = None) -> OutcomeSummary:
    """Count, per recommendation action, how often it was applied and the next run improved."""
    query = (
        "SELECT action, COUNT(*), SUM(applied), SUM(applied AND improved IS NOT NULL), "
        "SUM(applied AND improved = 1) FROM outcomes GROUP BY action ORDER BY action"
    )
    with connect(store) as db:
        rows = db.execute(query).fetchall()
    counted = tuple(
        (str(a), int(n or 0), int(applied or 0), int(judged or 0), int(improved or 0))
        for a, n, applied, judged, improved in rows
    )
    return OutcomeSummary(counted)
