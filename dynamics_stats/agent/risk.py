"""Run-level risk that a run will not reach a good result or is wasting compute."""

from __future__ import annotations

from dynamics_stats.core.analysis_config import PolicyConfig
from dynamics_stats.core.results import Finding, Recommendation, Risk

__all__ = ["assess_risk"]

# Finding kind -> evidence number giving the fraction of the run spent after it paid off.
_WASTE_VALUES = {
    "overfitting": "frac_run_after_best",
    "divergence": "frac_run_after_onset",
    "validation_plateau": "plateau_frac",
}


def _wasted_frac(findings: tuple[Finding, ...]) -> float | None:
    fracs = [
        value
        for f in findings
        for key, value in f.evidence
        if _WASTE_VALUES.get(f.kind) == key and 0.0 <= value <= 1.0
    ]
    return max(fracs) if fracs else None


def _mitigation(
    level: str,
    score: float,
    drivers: list[tuple[str, float]],
    actions: tuple[str, ...],
    wasted: float | None,
) -> str:
    waste = (
        f" About {wasted:.0%} of the logged steps came after the run stopped paying off."
        if wasted
        else ""
    )
    if not drivers:
        return f"Risk is {level} ({score:.2f}): no problem kind stands out; keep monitoring."
    named = ", ".join(f"{k} (weighted {p:.2f})" for k, p in drivers)
    text = f"Risk is {level} ({score:.2f}), driven by {named}.{waste}"
    if actions:
        text += " Applying these recommendations would lower it: " + ", ".join(actions) + "."
    else:
        text += " Act on the findings for: " + ", ".join(k for k, _ in drivers) + "."
    return text


def assess_risk(
    issues: tuple[tuple[str, float], ...],
    *,
    findings: tuple[Finding, ...] = (),
    recommendations: tuple[Recommendation, ...] = (),
    policy: PolicyConfig | None = None,
) -> Risk:
    """Return the run-level risk from the seven kinds' probabilities.

    Parameters
    ----------
    issues : tuple of (str, float)
        Each core kind's probability.
    findings : tuple of Finding, default=()
        The findings (for the fraction of compute spent after the run stopped paying off).
    recommendations : tuple of Recommendation, default=()
        The recommendations (those addressing a driver are named as what lowers the risk).
    policy : PolicyConfig or None, default=None
        Level thresholds and the driver threshold; defaults when None.

    Returns
    -------
    Risk

    Notes
    -----
    The score is ``1 - prod(1 - w_k p_k)`` with the impact weights ``w_k`` of
    ``policy.risk_weights``: the probability that at least one problem that matters is
    present if the kinds were independent (they are not quite; the score is a summary, not
    a calibrated probability of its own). Drivers are the kinds whose ``w_k p_k`` reaches
    ``policy.driver_min_probability``.

    Examples
    --------
    >>> assess_risk((("divergence", 0.9), ("stalled", 0.1))).level
    'high'
    """
    policy = policy or PolicyConfig()
    weighted = [
        (kind, policy.risk_weights.get(kind, 1.0) * min(max(p, 0.0), 1.0)) for kind, p in issues
    ]
    survival = 1.0
    for _, contribution in weighted:
        survival *= 1.0 - contribution
    score = 1.0 - survival
    level = (
        "low" if score < policy.risk_medium else "medium" if score < policy.risk_high else "high"
    )
    ranked = sorted(weighted, key=lambda kp: -kp[1])
    drivers = [(k, p) for k, p in ranked if p >= policy.driver_min_probability]
    driver_kinds = {k for k, _ in drivers}
    wasted = _wasted_frac(findings)
    actions = tuple(
        r.action for r in recommendations if not r.general and driver_kinds & set(r.finding_ids)
    )
    return Risk(
        score=score,
        level=level,  # type: ignore[arg-type]
        drivers=tuple(k for k, _ in drivers),
        mitigation=_mitigation(level, score, drivers, actions, wasted),
        contributions=tuple(ranked),
        lowered_by=actions,
        wasted_compute_frac=wasted,
    )
