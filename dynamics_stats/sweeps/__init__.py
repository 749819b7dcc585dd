"""Sweep studies: which hyper-parameters drive performance and pathologies across runs.

Build a `SweepTable` (one row per run: hyper-parameters and outcomes, including the
probability of each core problem kind) and call `analyze_sweep`; the `SweepResult` orders the
parameters by importance and links each to the problems it drives.
"""

from dynamics_stats.sweeps.analyze import analyze_sweep
from dynamics_stats.sweeps.effects import Interaction, ParameterEffect, PathologyLink
from dynamics_stats.sweeps.result import (
    SWEEP_SCHEMA_VERSION,
    ImportanceModel,
    RunOutcome,
    SweepResult,
)
from dynamics_stats.sweeps.table import PROBLEM_COLUMNS, SweepTable

__all__ = [
    "PROBLEM_COLUMNS",
    "SWEEP_SCHEMA_VERSION",
    "ImportanceModel",
    "Interaction",
    "ParameterEffect",
    "PathologyLink",
    "RunOutcome",
    "SweepResult",
    "SweepTable",
    "analyze_sweep",
]
