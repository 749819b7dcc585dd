"""One rule per finding kind: the action, with the values its evidence supports."""

from __future__ import annotations

from collections.abc import Callable

from dynamics_stats.agent._observations import Observations
from dynamics_stats.core.results import Finding, Pairs, Recommendation

__all__ = ["RULES"]

Rule = Callable[[Finding, Observations], "Recommendation | None"]


def _ev(finding: Finding, name: str) -> float | None:
    for key, value in finding.evidence:
        if key == name and value == value and abs(value) != float("inf"):
            return value
    return None


def _lr(x: float) -> str:
    return f"{x:.2g}"


def _response_clause(obs: Observations, *, supports: str) -> str:
    """Describe the LR response when its interval excludes zero on the supporting side.

    ``supports`` is ``"higher"`` or ``"lower"``: the LR direction the advice points to.
    """
    r = obs.lr_response
    if r is None or (r.ci_low <= 0 <= r.ci_high):
        return ""
    way = "higher" if r.spearman > 0 else "lower"
    if way != supports:
        return ""
    partial = r.partial_spearman
    within = "" if partial != partial else f"; {partial:.2f} with the run's position held fixed"
    return (
        f" Over the run the loss fell faster where the learning rate was {way} "
        f"(Spearman {r.spearman:.2f}, 95% CI [{r.ci_low:.2f}, {r.ci_high:.2f}], "
        f"{r.n_windows} windows{within})."
    )


def _factor(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def _pct(q: float) -> str:
    return f"{100 * q:.0f}th"


def _fastest(finding: Finding, obs: Observations) -> tuple[float, float] | None:
    low, high = _ev(finding, "best_lr_low"), _ev(finding, "best_lr_high")
    if low is None or high is None:
        low, high = obs.fact("lr_too_high", "best_lr_low"), obs.fact("lr_too_high", "best_lr_high")
    if (low is None or high is None) and obs.lr_response is not None:
        low, high = obs.lr_response.fastest_lr_low, obs.lr_response.fastest_lr_high
    ok = low is not None and high is not None and low == low and high == high
    return (low, high) if ok else None  # type: ignore[return-value]


def _rec(  # noqa: PLR0913 - the fields of one recommendation
    finding: Finding, action: str, text: str, priority: int, effect: str, values: Pairs = ()
) -> Recommendation:
    return Recommendation(action, text, (finding.id,), priority, effect, values=values)


def _divergence(f: Finding, obs: Observations) -> Recommendation:
    onset = f.onset_step
    lr = _ev(f, "lr_at_onset") or obs.lr_peak
    where = f" at step {onset:,}" if onset is not None else ""
    values: list[tuple[str, float]] = []
    if onset is not None:
        values.append(("restart_before_step", float(onset)))
    if lr:
        new = lr / 5
        fastest = _fastest(f, obs)
        lr_text = f"lower the learning rate from {_lr(lr)} to about {_lr(new)}"
        if fastest and fastest[1] < lr / 1.5:
            new = (fastest[0] * fastest[1]) ** 0.5
            lr_text = f"lower the learning rate from {_lr(lr)} to about {_lr(new)} (the loss "
            lr_text += f"fell fastest at learning rates in [{_lr(fastest[0])}, {_lr(fastest[1])}])"
        values += [("current_lr", lr), ("suggested_lr", new)]
    else:
        lr_text = "lower the learning rate 3-10x"
    clip = _clip_in_range(_clip_facts(f, obs)[0], obs)
    clip_text = f" and clip gradients at {clip:.3g}" if clip else " and enable gradient clipping"
    if clip:
        values.append(("clip_value", clip))
    text = f"The loss diverged{where}: restart from a checkpoint before it, {lr_text}{clip_text}."
    effect = "The loss keeps falling past the point where it diverged."
    return _rec(
        f,
        "lower_lr_and_restart",
        text + _response_clause(obs, supports="lower"),
        1,
        effect,
        tuple(values),
    )


_CLIP_SOURCES = ("clipping_recommendation", "clipping_ineffective", "clipping_too_aggressive")


def _clip_facts(f: Finding, obs: Observations) -> tuple[float | None, float | None, float | None]:
    """Clip value and, when the clipping detector measured them, spike counts at that value."""
    for source in _CLIP_SOURCES:
        clip = obs.fact(source, "recommended_clip")
        if clip is not None:
            spikes = obs.fact(source, "n_norm_spikes")
            return clip, spikes, obs.fact(source, "spikes_clipped_at_recommended")
    return _ev(f, "recommended_clip"), None, None


def _clip_in_range(clip: float | None, obs: Observations) -> float | None:
    """Return the clip value, or None when it lies outside the logged gradient norms."""
    lo_hi = obs.grad_norm_range
    if clip is None or lo_hi is None or not lo_hi[0] <= clip <= lo_hi[1]:
        return None
    return clip


def _clip(f: Finding, obs: Observations) -> Recommendation:
    clip, spikes, caught = _clip_facts(f, obs)
    clip = _clip_in_range(clip, obs)
    effect = "Single bad batches no longer throw the weights far off course."
    if clip is None:
        text = (
            f"{f.message} Enable gradient clipping at about the {_pct(obs.clip_quantile)} "
            "percentile of the gradient norm in a stable period (log the pre-clip norm to "
            "choose it), or lower the learning rate."
        )
        return _rec(f, "clip_gradients", text.strip(), 2, effect)
    tail = ""
    if spikes and caught is not None:
        tail = f", which would have clipped {caught:.0f} of the {spikes:.0f} gradient-norm spikes"
    text = (
        f"Clip gradients at {clip:.3g}, the {_pct(obs.clip_quantile)} percentile of the gradient "
        f"norm in the stable period{tail}."
    )
    values: Pairs = (("clip_value", clip),) + ((("n_norm_spikes", spikes),) if spikes else ())
    return _rec(f, "clip_gradients", f"{f.message} {text}".strip(), 2, effect, values)


def _overfitting(f: Finding, obs: Observations) -> Recommendation:
    best = _ev(f, "best_step")
    best_step = int(best) if best is not None else f.onset_step
    values: list[tuple[str, float]] = []
    text = ""
    if best_step is not None:
        stop = obs.nearest_val_step(best_step)
        values.append(("stop_step", float(stop)))
        text = f"Stop or keep the checkpoint at step {stop:,}: the validation curve was best there"
        after = _ev(f, "frac_run_after_best")
        if obs.val_steps and stop == obs.val_steps[0]:
            text += ", at its first evaluation, and never improved afterwards"
        elif after is not None and after > 0.05:
            text += f" and the last {after:.0%} of the run did not improve it"
            values.append(("frac_run_after_best", after))
        text += ". "
    growth = _ev(f, "gap_growth_decades")
    reg = "Add weight decay or dropout, augment the data, or get more data"
    if growth is not None and growth > 0.01 and best_step is not None:
        factor = 10.0**growth
        reg += f": validation loss / training loss grew {_factor(factor)}x after step {best_step:,}"
        values.append(("gap_growth_factor", factor))
    effect = "Validation loss stays near its minimum instead of rising."
    return _rec(f, "early_stop_and_regularize", text + reg + ".", 2, effect, tuple(values))


def _stalled(f: Finding, obs: Observations) -> Recommendation:
    lr = obs.lr_peak
    suggested = obs.fact("lr_too_low", "suggested_lr")
    if lr and (suggested is None or suggested <= lr):
        suggested = 3 * lr
    if lr and suggested:
        lr_text = f"raise the learning rate from {_lr(lr)} to about {_lr(suggested)}"
        values: Pairs = (("current_lr", lr), ("suggested_lr", suggested))
    else:
        lr_text, values = "raise the learning rate 3-10x", ()
    text = (
        f"Training makes little progress: {lr_text}, and check that the parameters receive "
        "gradients and that inputs and labels match." + _response_clause(obs, supports="higher")
    )
    effect = "The training loss falls clearly within the first few hundred steps."
    return _rec(f, "raise_lr", text, 1, effect, values)


def _oscillation(f: Finding, obs: Observations) -> Recommendation:
    lr = obs.lr_peak
    if lr:
        text = f"The loss oscillates without settling: lower the peak learning rate from {_lr(lr)} "
        text += f"to about {_lr(lr / 2)} or add a decay schedule; a larger batch also damps it."
        values: Pairs = (("current_lr", lr), ("suggested_lr", lr / 2))
    else:
        text = "The loss oscillates without settling: lower the learning rate 2-3x or add a "
        text += "decay schedule; a larger batch also damps it."
        values = ()
    effect = "Step-to-step volatility falls and the trend becomes visible."
    clause = _response_clause(obs, supports="lower")
    return _rec(f, "lower_lr_or_decay", text + clause, 2, effect, values)


def _vanishing(f: Finding, obs: Observations) -> Recommendation:
    drop = _ev(f, "drop_decades")
    drop = drop if drop is not None else _ev(f, "max_fall_decades")
    where = f" from step {f.onset_step:,}" if f.onset_step is not None else ""
    size = f" (the norm fell {_factor(10**drop)}x{where})" if drop else where
    text = (
        f"Gradients vanished{size}: use non-saturating activations (ReLU/GELU), normalisation "
        "layers or residual connections, and check the initialisation scale."
    )
    effect = "The gradient norm returns to its early level and the loss moves."
    return _rec(f, "fix_gradient_flow", text, 1, effect, (("drop_decades", drop),) if drop else ())


def _lr_too_high(f: Finding, obs: Observations) -> Recommendation | None:
    peak, suggested = obs.lr_peak or _ev(f, "peak_lr"), _ev(f, "suggested_lr")
    if not peak or not suggested or suggested >= peak:
        return None
    text = f"Lower the peak learning rate from {_lr(peak)} to about {_lr(suggested)}"
    values: list[tuple[str, float]] = [("current_lr", peak), ("suggested_lr", suggested)]
    fastest = _fastest(f, obs)
    if fastest:
        text += (
            f": the loss fell fastest at learning rates in [{_lr(fastest[0])}, {_lr(fastest[1])}]"
        )
        values += [("fastest_lr_low", fastest[0]), ("fastest_lr_high", fastest[1])]
    effect = "Faster, steadier loss decrease."
    clause = _response_clause(obs, supports="lower")
    return _rec(f, "lower_lr", text + "." + clause, 2, effect, tuple(values))


def _lr_too_low(f: Finding, obs: Observations) -> Recommendation | None:
    peak, suggested = obs.lr_peak or _ev(f, "peak_lr"), _ev(f, "suggested_lr")
    if not peak or not suggested or suggested <= peak:
        return None
    fall = _ev(f, "improvement_decades")
    why = f": the loss fell only {fall:.2g} decades and was still falling" if fall else ""
    text = f"Raise the peak learning rate from {_lr(peak)} to about {_lr(suggested)}{why}."
    effect = "The loss reaches the same level in fewer steps."
    values: Pairs = (("current_lr", peak), ("suggested_lr", suggested))
    return _rec(f, "raise_lr", text + _response_clause(obs, supports="higher"), 2, effect, values)


def _too_aggressive(f: Finding, obs: Observations) -> Recommendation | None:
    threshold, clip = _ev(f, "threshold"), _ev(f, "recommended_clip")
    frac = _ev(f, "frac_steps_clipped")
    if threshold is None or clip is None or clip <= threshold or frac is None:
        return None
    text = f"Raise the clipping threshold from {threshold:.3g} to about {clip:.3g}: clipping "
    text += f"fired on {frac:.0%} of steps, which slows learning like a smaller learning rate."
    effect = "Clipping touches only outliers; the effective step size returns."
    return _rec(f, "raise_clip_threshold", text, 3, effect, (("clip_value", clip),))


def _validation_plateau(f: Finding, obs: Observations) -> Recommendation | None:
    start = _ev(f, "plateau_start_step")
    if start is None:
        return None
    step = obs.nearest_val_step(int(start))
    text = f"Validation stopped improving at step {step:,}: stop there, or lower the learning "
    text += "rate (a decay step) if training should continue."
    effect = "No compute is spent on steps that do not improve validation."
    return _rec(f, "stop_or_decay_at_plateau", text, 3, effect, (("stop_step", float(step)),))


RULES: dict[str, Rule] = {
    "divergence": _divergence,
    "exploding_gradients": _clip,
    "loss_spikes": _clip,
    "clipping_ineffective": _clip,
    "overfitting": _overfitting,
    "stalled": _stalled,
    "oscillation": _oscillation,
    "vanishing_gradients": _vanishing,
    "lr_too_high": _lr_too_high,
    "lr_too_low": _lr_too_low,
    "clipping_too_aggressive": _too_aggressive,
    "validation_plateau": _validation_plateau,
}
