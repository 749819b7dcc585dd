"""From findings to recommendations and run-level risk (policy only, no statistics)."""

from __future__ import annotations

import math
from collections.abc import Callable

from dynamics_stats.core.results import Finding, Recommendation, Risk

__all__ = ["assess_risk", "recommend"]


def _value(finding: Finding, *names: str) -> float | None:
    for name in names:
        for key, value in finding.evidence:
            if key == name and math.isfinite(value):
                return value
    return None


def _at(finding: Finding) -> str:
    return f" at step {finding.onset_step:,}" if finding.onset_step is not None else ""


def _divergence(f: Finding) -> Recommendation:
    lr = _value(f, "lr_at_onset", "learning_rate_at_onset", "lr")
    lr_text = f" from {lr:.2g} to about {lr / 5:.2g}" if lr else " by 3-10x"
    return Recommendation(
        action="lower_lr_and_restart",
        text=f"The loss diverged{_at(f)}: restart from a checkpoint before it, lower the "
        f"learning rate{lr_text} and enable gradient clipping.",
        finding_ids=(f.id,),
        priority=1,
        expected_effect="The loss keeps falling past the point where it diverged.",
        values=(("suggested_lr", lr / 5),) if lr else (),
    )


def _clip(f: Finding) -> Recommendation:
    clip = _value(f, "recommended_clip", "suggested_clip")
    if clip is None:
        text = "Enable gradient clipping at about the 95th percentile of the gradient norm in "
        text += "a stable period, or lower the learning rate."
        values: tuple[tuple[str, float], ...] = ()
    else:
        text = f"Clip gradients at {clip:.3g} (a high percentile of the norm in the stable period)."
        values = (("clip_value", clip),)
    return Recommendation(
        action="clip_gradients",
        text=f"{f.message} {text}".strip(),
        finding_ids=(f.id,),
        priority=2,
        expected_effect="Single bad batches no longer throw the weights far off course.",
        values=values,
    )


def _overfitting(f: Finding) -> Recommendation:
    return Recommendation(
        action="early_stop_and_regularize",
        text=f"Stop or keep the checkpoint{_at(f)}, where the validation loss was lowest; "
        "add weight decay or dropout, augment, or get more data.",
        finding_ids=(f.id,),
        priority=2,
        expected_effect="Validation loss stays near its minimum instead of rising.",
        values=(("best_step", float(f.onset_step)),) if f.onset_step is not None else (),
    )


def _stalled(f: Finding) -> Recommendation:
    return Recommendation(
        action="raise_lr_or_check_pipeline",
        text="Training makes little progress: raise the learning rate (try 3-10x), and check "
        "that the parameters receive gradients and that inputs and labels match.",
        finding_ids=(f.id,),
        priority=1,
        expected_effect="The training loss falls clearly within the first few hundred steps.",
    )


def _oscillation(f: Finding) -> Recommendation:
    return Recommendation(
        action="lower_lr_or_decay",
        text="The loss oscillates without settling: lower the learning rate 2-3x or add a "
        "decay schedule; a larger batch also damps it.",
        finding_ids=(f.id,),
        priority=2,
        expected_effect="Step-to-step volatility falls and the trend becomes visible.",
    )


def _vanishing(f: Finding) -> Recommendation:
    return Recommendation(
        action="fix_gradient_flow",
        text=f"Gradients vanished{_at(f)}: use non-saturating activations (ReLU/GELU), "
        "normalisation layers or residual connections, and check the initialisation scale.",
        finding_ids=(f.id,),
        priority=1,
        expected_effect="The gradient norm returns to its early level and the loss moves.",
    )


def _suggested_lr(f: Finding) -> Recommendation | None:
    lr = _value(f, "suggested_lr")
    if lr is None:
        return None
    return Recommendation(
        action="adjust_lr",
        text=f"{f.message} Try a learning rate of about {lr:.2g}.".strip(),
        finding_ids=(f.id,),
        priority=3,
        expected_effect="Faster, steadier loss decrease.",
        values=(("suggested_lr", lr),),
    )


_RULES: dict[str, Callable[[Finding], Recommendation | None]] = {
    "divergence": _divergence,
    "exploding_gradients": _clip,
    "loss_spikes": _clip,
    "clipping_ineffective": _clip,
    "overfitting": _overfitting,
    "stalled": _stalled,
    "oscillation": _oscillation,
    "vanishing_gradients": _vanishing,
    "lr_too_high": _suggested_lr,
    "lr_too_low": _suggested_lr,
}


def _general(limitations: tuple[str, ...]) -> list[Recommendation]:
    if not limitations:
        return []
    return [
        Recommendation(
            action="log_more_metrics",
            text="Part of the analysis could not run (see limitations): log the validation "
            "loss, the pre-clip gradient norm and the learning rate to get a full diagnosis.",
            finding_ids=(),
            priority=9,
            expected_effect="Every problem kind can be assessed on the next run.",
            general=True,
        )
    ]


def recommend(
    findings: tuple[Finding, ...], limitations: tuple[str, ...] = ()
) -> tuple[Recommendation, ...]:
    """Return recommendations justified by the findings, most urgent first.

    Two findings asking for the same action are merged into one recommendation citing
    both. General advice, labelled ``general=True``, is added when the analysis was partial.

    Parameters
    ----------
    findings : tuple of Finding
        The run's findings.
    limitations : tuple of str, default=()
        What could not be analysed.

    Returns
    -------
    tuple of Recommendation
    """
    by_action: dict[str, Recommendation] = {}
    for finding in findings:
        rule = _RULES.get(finding.kind)
        rec = rule(finding) if rule else None
        if rec is None:
            continue
        if rec.action in by_action:
            old = by_action[rec.action]
            ids = old.finding_ids + tuple(i for i in rec.finding_ids if i not in old.finding_ids)
            rec = Recommendation(
                old.action,
                old.text,
                ids,
                min(old.priority, rec.priority),
                old.expected_effect,
                old.general,
                old.values or rec.values,
            )
        by_action[rec.action] = rec
    recs = sorted(by_action.values(), key=lambda r: (r.priority, r.action))
    return tuple(recs + _general(limitations))


def assess_risk(issues: tuple[tuple[str, float], ...]) -> Risk:
    """Return the run-level risk from the seven kinds' probabilities.

    The score is ``1 - prod(1 - p_k)``: the probability that at least one problem is
    present if the kinds were independent (they are not quite; the score is a summary,
    not a calibrated probability of its own).
    """
    survival = 1.0
    for _, p in issues:
        survival *= 1.0 - min(max(p, 0.0), 1.0)
    score = 1.0 - survival
    level = "low" if score < 0.3 else "medium" if score < 0.7 else "high"
    drivers = tuple(k for k, p in sorted(issues, key=lambda kp: -kp[1]) if p >= 0.3)
    mitigation = (
        "Act on the recommendations for: " + ", ".join(drivers) + "."
        if drivers
        else "Nothing stands out; keep monitoring."
    )
    return Risk(score=score, level=level, drivers=drivers, mitigation=mitigation)  # type: ignore[arg-type]
