"""How far an analysis can be trusted given the data it had (policy, no statistics)."""

from __future__ import annotations

from dynamics_stats.core.agent_result import Confidence
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.report import ValidationIssue

__all__ = ["assess_confidence"]

# Each reason lowers the score by its weight; weights say how much of the analysis it costs.
_MISSING_ROLE_WEIGHTS = {
    "val_loss": (0.25, "no validation loss or metric: overfitting and plateaus cannot be judged"),
    "grad_norm": (0.15, "no gradient norm: gradient problems are only inferred from the loss"),
    "learning_rate": (0.05, "no learning rate: schedule effects cannot be separated out"),
}
_MIN_POINTS = 50


def assess_confidence(
    artifacts: TrainingArtifacts,
    *,
    fit_notes: tuple[ValidationIssue, ...],
    upstream_validated: bool | None = None,
) -> Confidence:
    """Return the overall confidence of an analysis, with its reasons in words.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    fit_notes : tuple of ValidationIssue
        Notes from the curve models (fits that failed or fell back).
    upstream_validated : bool or None, default=None
        Whether an upstream artifact validation ran (None: unknown).

    Returns
    -------
    Confidence
    """
    score, reasons = 1.0, []
    has_val = artifacts.get("val_loss") is not None or artifacts.get("val_metric") is not None
    for role, (weight, reason) in _MISSING_ROLE_WEIGHTS.items():
        present = has_val if role == "val_loss" else artifacts.get(role) is not None  # type: ignore[arg-type]
        if not present:
            score -= weight
            reasons.append(reason)
    loss = artifacts.get("train_loss")
    if loss is None:
        score -= 0.5
        reasons.append("no training loss: most analyses cannot run")
    elif len(loss) < _MIN_POINTS:
        score -= 0.2
        reasons.append(f"the training loss has only {len(loss)} points (short or sparse log)")
    failed = [n for n in fit_notes if n.level in ("warning", "fatal")]
    if failed:
        score -= 0.05 * len(failed)
        reasons.append(f"{len(failed)} curve fit(s) fell back to simpler methods")
    if upstream_validated is False:
        score -= 0.05
        reasons.append("the artifacts were not validated upstream")
    score = min(max(score, 0.0), 1.0)
    level = "high" if score >= 0.8 else "medium" if score >= 0.5 else "low"
    return Confidence(level=level, score=score, reasons=tuple(reasons))
