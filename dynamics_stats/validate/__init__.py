"""Validation: from a raw `RunLog` to `TrainingArtifacts` with roles and a report."""

from __future__ import annotations

from dynamics_stats.validate.roles import infer_role
from dynamics_stats.validate.validate import validate_run

__all__ = ["infer_role", "validate_run"]
