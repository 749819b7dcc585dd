"""Read the corpus scores the shipped maps were fitted on, long or wide, as one row per run."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.kinds import CORE_KINDS

__all__ = ["load_corpus_scores"]


def _read_csv(path: str | Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise LoadError(
            f"cannot read the corpus scores '{path}': {err}. Regenerate them with "
            "calibration/fit.py or pass another file."
        ) from err


def load_corpus_scores(path: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
    """Read corpus scores (long or wide) as one row per run: group, score_<kind>, label_<kind>.

    Parameters
    ----------
    path : str, pathlib.Path, DataFrame or None, default=None
        A CSV (or its DataFrame) with columns ``run``, ``kind``, ``score``, ``label``
        (optionally ``source``, ``group``), or wide ``score_<kind>`` / ``label_<kind>``
        columns; None reads ``corpus_scores.csv`` shipped beside the maps.

    Raises
    ------
    LoadError
        If the file is missing or lacks the needed columns.
    """
    if isinstance(path, pd.DataFrame):
        frame, path = path, "<DataFrame>"
    else:
        if path is None:
            path = Path(str(resources.files("dynamics_stats.calibration") / "maps"))
            path = path / "corpus_scores.csv"
        frame = _read_csv(path)
    if "kind" in frame.columns:
        keys = [c for c in ("source", "group", "run") if c in frame.columns]
        frame = frame.pivot_table(index=keys, columns="kind", values=["score", "label"])
        frame.columns = [f"{pair[0]}_{pair[1]}" for pair in frame.columns.to_list()]
        frame = frame.reset_index()
    needed = [f"score_{k}" for k in CORE_KINDS] + [f"label_{k}" for k in CORE_KINDS]
    missing = [c for c in needed + ["run"] if c not in frame.columns]
    if missing:
        raise LoadError(f"the corpus scores '{path}' lack the columns {', '.join(missing)}.")
    group = frame["group"] if "group" in frame.columns else frame["run"]
    source = frame["source"].astype(str) + ":" if "source" in frame.columns else ""
    frame = frame[needed].astype(float)
    frame.insert(0, "group", "corpus:" + source + group.astype(str))
    return frame
