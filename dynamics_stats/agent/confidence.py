"""How far an analysis can be trusted given the data it had (policy, no statistics)."""

from __future__ import annotations

from dynamics_stats.core.agent_result import Confidence, UpstreamValidation
from dynamics_stats.core.analysis_config import PolicyConfig
from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.report import ValidationIssue

__all__ = ["assess_confidence"]

# Missing role -> (factor code, weight, reason); weights say how much of the analysis it costs.
_MISSING_ROLE_WEIGHTS = {
    "val_loss": (
        "no_validation",
        0.25,
        "no validation loss or metric: overfitting and plateaus cannot be judged",
    ),
    "grad_norm": (
        "no_grad_norm",
        0.15,
        "no gradient norm: gradient problems are only inferred from the loss",
    ),
    "learning_rate": (
        "no_learning_rate",
        0.05,
        "no learning rate: schedule effects cannot be separated out",
    ),
}


def _data_factors(
    artifacts: TrainingArtifacts, policy: PolicyConfig
) -> list[tuple[str, float, str]]:
    factors = []
    val = artifacts.get("val_loss")
    val = val if val is not None else artifacts.get("val_metric")
    for role, (code, weight, reason) in _MISSING_ROLE_WEIGHTS.items():
        present = val is not None if role == "val_loss" else artifacts.get(role) is not None  # type: ignore[arg-type]
        if not present:
            factors.append((code, weight, reason))
    loss = artifacts.get("train_loss")
    if loss is None:
        factors.append(("no_train_loss", 0.5, "no training loss: most analyses cannot run"))
    elif len(loss) < policy.min_train_points:
        reason = f"the training loss has only {len(loss)} points (short or sparse log; "
        factors.append(("short_run", 0.2, reason + f"{policy.min_train_points} wanted)"))
    if val is not None and len(val) < policy.min_val_points:
        reason = f"the validation curve has only {len(val)} points (sparse evaluation)"
        factors.append(("sparse_validation", 0.1, reason))
    return factors


def _analysis_factors(
    fit_notes: tuple[ValidationIssue, ...], failed_detectors: tuple[str, ...]
) -> list[tuple[str, float, str]]:
    factors = []
    failed = [n for n in fit_notes if n.level in ("warning", "fatal")]
    if failed:
        reason = f"{len(failed)} curve fit(s) failed and fell back to simpler heuristics"
        factors.append(("fit_fallbacks", min(0.05 * len(failed), 0.2), reason))
    if failed_detectors:
        reason = f"detector(s) failed on this run: {', '.join(failed_detectors)}"
        factors.append(("detectors_failed", min(0.1 * len(failed_detectors), 0.3), reason))
    return factors


def _upstream_factors(upstream: UpstreamValidation) -> list[tuple[str, float, str]]:
    if not upstream.ran:
        reason = "the artifacts were not validated upstream "
        reason += "(the analysis is more reliable when they are)"
        return [("not_validated_upstream", 0.05, reason)]
    if upstream.passed is False:
        by = f" by {upstream.source}" if upstream.source else ""
        reason = f"the upstream validation{by} reported problems ({upstream.n_issues} issue(s))"
        return [("upstream_issues", 0.1, reason)]
    return []


def _explain(level: str, score: float, reasons: list[str], upstream: UpstreamValidation) -> str:
    text = f"Confidence is {level} ({score:.2f})"
    text += (
        ": lowered because " + "; ".join(reasons) + "." if reasons else ": the data were complete."
    )
    if upstream.ran and upstream.passed is not False:
        by = f" by {upstream.source}" if upstream.source else ""
        text += (
            f" The artifacts were validated upstream{by}, which makes the analysis more reliable."
        )
    return text


def assess_confidence(
    artifacts: TrainingArtifacts,
    *,
    fit_notes: tuple[ValidationIssue, ...],
    upstream: UpstreamValidation | None = None,
    failed_detectors: tuple[str, ...] = (),
    policy: PolicyConfig | None = None,
) -> Confidence:
    """Return the overall confidence of an analysis, with its reasons in words.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    fit_notes : tuple of ValidationIssue
        Notes from the curve models (fits that failed or fell back).
    upstream : UpstreamValidation or None, default=None
        Whether an upstream artifact validation ran and what it found (None: unknown).
    failed_detectors : tuple of str, default=()
        Detectors that raised on this run (the others still ran).
    policy : PolicyConfig or None, default=None
        What counts as a short run or a sparse validation curve.

    Returns
    -------
    Confidence
        Score 1 minus the weights of the reasons (clipped to [0, 1]); level "high" from
        0.8, "medium" from 0.5, else "low".
    """
    upstream = upstream or UpstreamValidation()
    factors = _data_factors(artifacts, policy or PolicyConfig())
    factors += _analysis_factors(fit_notes, failed_detectors)
    factors += _upstream_factors(upstream)
    score = min(max(1.0 - sum(w for _, w, _ in factors), 0.0), 1.0)
    level = "high" if score >= 0.8 else "medium" if score >= 0.5 else "low"
    reasons = [reason for _, _, reason in factors]
    return Confidence(
        level=level,
        score=score,
        reasons=tuple(reasons),
        factors=tuple((code, weight) for code, weight, _ in factors),
        explanation=_explain(level, score, reasons, upstream),
    )
