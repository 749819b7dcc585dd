"""From findings to recommendations (policy only, no statistics)."""

from __future__ import annotations

import dataclasses

from dynamics_stats.agent._observations import Observations
from dynamics_stats.agent._recommend_rules import RULES
from dynamics_stats.agent.risk import assess_risk
from dynamics_stats.core.results import Finding, Recommendation

__all__ = ["assess_risk", "general_advice", "recommend"]

# Missing role -> (action, advice) given as labelled general advice when the analysis is partial.
_MISSING_ADVICE = {
    "val_loss": (
        "log_validation",
        "Log a validation loss (about 20-50 evaluations over the run): without it overfitting "
        "and the best checkpoint cannot be judged. Meanwhile keep regular checkpoints.",
    ),
    "grad_norm": (
        "log_grad_norm",
        "Log the total gradient norm before clipping at every optimizer step: it is needed to "
        "judge exploding or vanishing gradients and to choose a clipping threshold. Until "
        "then, a conservative clip at 1.0 is a common safe default for transformer training.",
    ),
    "learning_rate": (
        "log_learning_rate",
        "Log the learning rate at every step (e.g. Lightning's LearningRateMonitor): it is "
        "needed to relate progress to the schedule and to suggest a value.",
    ),
}


def general_advice(
    missing_roles: tuple[str, ...], limitations: tuple[str, ...]
) -> list[Recommendation]:
    """Return conservative advice, labelled ``basis="general"``, for a partial analysis.

    One piece of advice per missing metric role that limits the analysis; when none is
    missing but the analysis was still partial, one general piece of advice.

    Parameters
    ----------
    missing_roles : tuple of str
        Metric roles the run does not log.
    limitations : tuple of str
        What limited the analysis (pass them only when the result is partial).

    Returns
    -------
    list of Recommendation
    """
    recs = [
        Recommendation(
            action=action,
            text=text,
            finding_ids=(),
            priority=9,
            expected_effect="The next run can be assessed for every problem kind.",
            general=True,
        )
        for role, (action, text) in _MISSING_ADVICE.items()
        if role in missing_roles
    ]
    if recs or not limitations:
        return recs
    return [
        Recommendation(
            action="log_more_metrics",
            text="Part of the analysis could not run (see limitations): log the validation "
            "loss, the pre-clip gradient norm and the learning rate at regular steps.",
            finding_ids=(),
            priority=9,
            expected_effect="Every problem kind can be assessed on the next run.",
            general=True,
        )
    ]


def _merge(old: Recommendation, new: Recommendation) -> Recommendation:
    ids = old.finding_ids + tuple(i for i in new.finding_ids if i not in old.finding_ids)
    return Recommendation(
        action=old.action,
        text=old.text if old.values or not new.values else new.text,
        finding_ids=ids,
        priority=min(old.priority, new.priority),
        expected_effect=old.expected_effect,
        values=old.values or new.values,
    )


_LOWER_LR = ("lower_lr_and_restart", "lower_lr", "lower_lr_or_decay")


def _bound_lr(rec: Recommendation, max_factor: float) -> Recommendation:
    """Keep a suggested LR within ``max_factor`` of the current one (a conservative step)."""
    values = dict(rec.values)
    new, old = values.get("suggested_lr"), values.get("current_lr")
    if new is None or old is None or old <= 0 or old / max_factor <= new <= old * max_factor:
        return rec
    bounded = min(max(new, old / max_factor), old * max_factor)
    text = rec.text.replace(f"about {new:.2g}", f"about {bounded:.2g}")
    text += (
        f" (The evidence pointed to {new:.2g}; the change is capped at {max_factor:g}x per run.)"
    )
    values["suggested_lr"] = bounded
    return dataclasses.replace(rec, text=text, values=tuple(values.items()))


def _strongest(rec: Recommendation, probability: dict[str, float]) -> float:
    return max((probability.get(i, 0.0) for i in rec.finding_ids), default=0.0)


def _check_pipeline(raising: Recommendation, lowering: list[str]) -> Recommendation:
    return Recommendation(
        action="check_pipeline",
        text="Progress is poor, but more probable findings call for a lower learning rate "
        f"({', '.join(lowering)}), so do not raise it: check that the parameters receive "
        "gradients, that inputs and labels match, and that the loss is the intended one.",
        finding_ids=raising.finding_ids,
        priority=raising.priority,
        expected_effect="The cause of the poor progress is found without destabilising the run.",
    )


def _damp_without_lowering(lowering: Recommendation, raising: Recommendation) -> Recommendation:
    return Recommendation(
        action="damp_without_lowering_lr",
        text="The loss is noisy, but the more probable finding "
        f"({', '.join(raising.finding_ids)}) calls for a higher learning rate: damp the noise "
        "with a larger batch or gradient clipping instead of a lower learning rate.",
        finding_ids=lowering.finding_ids,
        priority=lowering.priority,
        expected_effect="Steadier steps without slowing training further.",
    )


def _resolve_conflicts(by_action: dict[str, Recommendation], probability: dict[str, float]) -> None:
    """Never advise raising and lowering the LR at once; fold duplicate LR cuts together.

    The side whose findings are more probable keeps its learning-rate advice (a divergence
    always wins); the other side's advice becomes one that leaves the learning rate alone.
    """
    if "lower_lr" in by_action and "lower_lr_or_decay" in by_action:
        by_action["lower_lr"] = _merge(by_action["lower_lr"], by_action.pop("lower_lr_or_decay"))
    lowering = [a for a in _LOWER_LR if a in by_action]
    raising = by_action.get("raise_lr")
    if raising is None or not lowering:
        return
    p_lower = max(_strongest(by_action[a], probability) for a in lowering)
    if "lower_lr_and_restart" in by_action or p_lower >= _strongest(raising, probability):
        del by_action["raise_lr"]
        by_action["check_pipeline"] = _check_pipeline(raising, lowering)
        return
    for action in lowering:
        by_action["damp_without_lowering_lr"] = _damp_without_lowering(
            by_action.pop(action), raising
        )


def recommend(
    findings: tuple[Finding, ...],
    limitations: tuple[str, ...] = (),
    *,
    observations: Observations | None = None,
    missing_roles: tuple[str, ...] = (),
    max_lr_factor: float = 10.0,
) -> tuple[Recommendation, ...]:
    """Return recommendations justified by the findings, most urgent first.

    Two findings asking for the same action are merged into one recommendation citing
    both (keeping the one with concrete values). The learning rate is never to be raised
    and lowered at once: when a finding calls for a lower one, the advice to raise it
    becomes a pipeline check. Conservative general advice, labelled
    ``basis="general"``, follows when the analysis was partial.

    Parameters
    ----------
    findings : tuple of Finding
        The run's findings.
    limitations : tuple of str, default=()
        What limited the analysis, when it was partial (adds general advice).
    observations : Observations or None, default=None
        Facts the recommendations may quote (evidence of other kinds, logged steps, LR).
    missing_roles : tuple of str, default=()
        Metric roles the run does not log (for the general advice).
    max_lr_factor : float, default=10.0
        A suggested learning rate stays within this factor of the current one.

    Returns
    -------
    tuple of Recommendation
    """
    obs = observations or Observations()
    by_action: dict[str, Recommendation] = {}
    for finding in findings:
        rule = RULES.get(finding.kind)
        rec = rule(finding, obs) if rule else None
        if rec is None:
            continue
        old = by_action.get(rec.action)
        by_action[rec.action] = rec if old is None else _merge(old, rec)
    _resolve_conflicts(by_action, {f.id: f.probability or 0.0 for f in findings})
    bounded = (_bound_lr(r, max_lr_factor) for r in by_action.values())
    recs = sorted(bounded, key=lambda r: (r.priority, r.action))
    return tuple(recs + general_advice(missing_roles, limitations))
