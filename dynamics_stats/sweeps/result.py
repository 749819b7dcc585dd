"""`SweepResult`: the JSON contract of an analysed sweep."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dynamics_stats.core.results import json_float
from dynamics_stats.core.types import JSONValue
from dynamics_stats.sweeps.effects import Interaction, ParameterEffect

__all__ = ["SWEEP_SCHEMA_VERSION", "ImportanceModel", "RunOutcome", "SweepResult"]

#: Version of the ``sweep_result`` JSON contract; a change of field bumps it.
SWEEP_SCHEMA_VERSION = "1.0"

OptionalPairs = tuple[tuple[str, float | None], ...]


def _pairs_to_json(pairs: OptionalPairs) -> dict[str, JSONValue]:
    return {key: json_float(value) for key, value in pairs}


def _pairs_from_json(data: dict[str, Any]) -> OptionalPairs:
    return tuple((str(k), None if v is None else float(v)) for k, v in data.items())


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """The outcomes and problem probabilities of one run of the sweep.

    Parameters
    ----------
    run_id : str
        The run's id (the table's index).
    outcomes : tuple of (str, float or None)
        Every non-probability outcome column (objective first); None when missing.
    problems : tuple of (str, float or None)
        Probability of each core problem kind present in the table; None when missing.
    """

    run_id: str
    outcomes: OptionalPairs
    problems: OptionalPairs

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the run as JSON-native values."""
        return {
            "run_id": self.run_id,
            "outcomes": _pairs_to_json(self.outcomes),
            "problems": _pairs_to_json(self.problems),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunOutcome:
        """Rebuild a run written by `to_dict`."""
        return cls(
            run_id=str(data["run_id"]),
            outcomes=_pairs_from_json(data["outcomes"]),
            problems=_pairs_from_json(data["problems"]),
        )


@dataclass(frozen=True, slots=True)
class ImportanceModel:
    """How the importance model was fitted and how well it predicts held-out runs.

    Parameters
    ----------
    method : str
        Plain description of the model and the importance measure.
    n_folds : int
        Cross-validation folds (0 when the sweep was too small for a model).
    n_estimators : int
        Trees per forest.
    n_repeats : int
        Permutations per parameter and fold.
    r2_heldout : float or None
        R^2 of the forest on held-out runs; near or below 0 means the parameters do not
        predict the objective and importances are noise.
    """

    method: str
    n_folds: int
    n_estimators: int
    n_repeats: int
    r2_heldout: float | None

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the model description as JSON-native values."""
        return {
            "method": self.method,
            "n_folds": self.n_folds,
            "n_estimators": self.n_estimators,
            "n_repeats": self.n_repeats,
            "r2_heldout": json_float(self.r2_heldout),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportanceModel:
        """Rebuild a model description written by `to_dict`."""
        r2 = data["r2_heldout"]
        return cls(
            method=data["method"],
            n_folds=int(data["n_folds"]),
            n_estimators=int(data["n_estimators"]),
            n_repeats=int(data["n_repeats"]),
            r2_heldout=None if r2 is None else float(r2),
        )


@dataclass(frozen=True, slots=True)
class SweepResult:
    """The analysis of a sweep; ``to_dict()`` is the JSON contract (``sweep_result.v1``).

    Parameters
    ----------
    objective : str
        The objective column.
    direction : {"minimize", "maximize"}
        Whether a smaller or larger objective is better.
    n_runs : int
        Runs in the sweep table.
    n_runs_used : int
        Runs with a finite objective (those the objective statistics use).
    runs : tuple of RunOutcome
        Per-run outcomes and problem probabilities.
    limitations : tuple of str
        What could not be analysed and why, one plain sentence each.
    parameters : tuple of ParameterEffect
        Ordered by importance, most important first.
    interactions : tuple of Interaction
        Strongest pairwise interactions first.
    model : ImportanceModel
        The importance model and its held-out fit.
    settings : tuple of (str, float)
        ``n_bootstrap``, ``alpha`` and ``seed`` used.
    """

    objective: str
    direction: str
    n_runs: int
    n_runs_used: int
    runs: tuple[RunOutcome, ...]
    limitations: tuple[str, ...]
    parameters: tuple[ParameterEffect, ...]
    interactions: tuple[Interaction, ...]
    model: ImportanceModel
    settings: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the result as JSON-native values (the ``sweep_result`` schema)."""
        return {
            "schema_version": SWEEP_SCHEMA_VERSION,
            "objective": {"name": self.objective, "direction": self.direction},
            "n_runs": self.n_runs,
            "n_runs_used": self.n_runs_used,
            "runs": [run.to_dict() for run in self.runs],
            "limitations": list(self.limitations),
            "parameters": [p.to_dict() for p in self.parameters],
            "interactions": [i.to_dict() for i in self.interactions],
            "model": self.model.to_dict(),
            "settings": {k: json_float(v) for k, v in self.settings},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return `to_dict` as strict JSON (no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepResult:
        """Rebuild a result written by `to_dict`."""
        return cls(
            objective=data["objective"]["name"],
            direction=data["objective"]["direction"],
            n_runs=int(data["n_runs"]),
            n_runs_used=int(data["n_runs_used"]),
            runs=tuple(RunOutcome.from_dict(r) for r in data["runs"]),
            limitations=tuple(data["limitations"]),
            parameters=tuple(ParameterEffect.from_dict(p) for p in data["parameters"]),
            interactions=tuple(Interaction.from_dict(i) for i in data["interactions"]),
            model=ImportanceModel.from_dict(data["model"]),
            settings=tuple((k, float(v)) for k, v in data["settings"].items()),
        )

    def parameter(self, name: str) -> ParameterEffect:
        """Return the effect of parameter ``name``; `LookupError` naming the valid ones."""
        for effect in self.parameters:
            if effect.name == name:
                return effect
        names = ", ".join(p.name for p in self.parameters)
        raise LookupError(f"no parameter named {name!r} in this sweep. Available: {names}.")

    def to_frame(self) -> pd.DataFrame:
        """Return one row per parameter (tidy, for notebooks), in importance order."""
        rows = []
        for effect in self.parameters:
            row = {k: v for k, v in effect.to_dict().items() if k != "pathologies"}
            for key in [k for k in row if k.endswith("_interval")]:
                bounds = row.pop(key)
                low, high = bounds if isinstance(bounds, list) else (None, None)
                row[f"{key.removesuffix('_interval')}_low"] = low
                row[f"{key.removesuffix('_interval')}_high"] = high
            row["pathologies"] = ", ".join(link.kind for link in effect.pathologies)
            rows.append(row)
        return pd.DataFrame(rows).set_index("name") if rows else pd.DataFrame()

    def summary(self) -> str:
        """Return a fixed-width text table of the parameters, most important first."""
        head = f"{'rank':>4}  {'parameter':<20} {'kind':<12} {'importance':>10}  "
        head += f"{'spearman':>8}  {'p_adj':>8}  {'effect':<28} pathologies"
        lines = [
            f"Sweep: {self.n_runs_used}/{self.n_runs} runs, objective {self.objective} "
            f"({self.direction})",
            head,
        ]
        for p in self.parameters:
            lines.append(
                f"{p.rank:>4}  {p.name[:20]:<20} {p.kind:<12} {_fmt(p.importance):>10}  "
                f"{_fmt(p.spearman):>8}  {_fmt(p.p_value_adjusted):>8}  {p.effect[:28]:<28} "
                + (", ".join(link.kind for link in p.pathologies) or "-")
            )
        lines.extend(f"limitation: {line}" for line in self.limitations)
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
