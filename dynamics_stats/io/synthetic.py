"""Synthetic training runs with known ground truth, for tests and calibration.

`make_run` builds one realistic run (train loss, validation loss, learning rate, gradient
norm) with at most one injected problem kind from `KINDS` and optionally a hard negative
from `HARD_NEGATIVES` (a healthy run that looks superficially like a problem); it returns
the `RunLog` and a `SyntheticTruth` whose labels are decided by explicit numeric rules on
the generated clean signal. `make_corpus` yields many varied runs from one seed.

Notes
-----
Healthy run. Effective time is the LR-weighted step count, ``T(t) = sum_s lr_s / lr_peak``.
The clean train loss is ``L0 * (f * (1 + beta * m(t)) + (1 - f) * d(T))`` with ``d(T) =
(1 + T / tau) ** -alpha`` (power law, 70 %) or ``exp(-T / tau)``, ``f`` the floor fraction
(0.05-0.6), ``L0`` log-uniform on 0.5-11 (11 ~ ln 50257, a GPT-2 vocabulary) and
``m(t)`` an exponential moving average of ``lr / lr_peak``: the excess loss proportional
to the current LR (``beta`` 0.02-0.15) that makes the loss drop at an LR step decay and
bend down at the end of a cosine schedule. Schedules: constant, linear warm-up (0-8 %) then
cosine, step decay (x0.1-0.3 at 50 % and 75 %) or linear decay. The validation loss follows
the same progress with a gap ``gap0 + gap1 * (1 - d)`` (each 0-0.1), so it never rises in
a healthy run, and iid log-normal noise of sd 0.002-0.02. The gradient norm is
``g0 * (L / L0) ** b`` (``g0`` log-uniform 0.1-10 times ``loss_scale``, ``b`` 0.2-1) with
AR(1) log-normal noise (sd 0.04-0.25, phi 0-0.5) and benign outliers (x2-5, up to one per
1000 steps).

Train-loss noise is multiplicative: ``log L_t = log L_clean + s_t * z_t`` with ``z`` an
AR(1) series (phi 0-0.3) of Student-t innovations (4.5-15 degrees of freedom, clipped at
6 sd) scaled to unit variance, and ``s_t = sigma * (L_t / L_0) ** -eta`` with ``sigma``
log-uniform on 0.02-0.2 and ``eta`` on -0.1..0.2 (the absolute noise shrinks with the
loss, the relative noise changes slowly). The ranges come from the detrended per-step log
train loss (minus a rolling median over n/50 points) of real runs in
``/work/shared/data/public_runs``: log-sd 0.17 / 0.10 / 0.05 (HF LoRA fine-tuning:
``hf_baize_tcm_lora``, ``hf_lora_mcfed``, ``hf_llm_backend``), 0.02-0.04 (LM pre-training:
``llmc_gpt2_124m_mainlog``, ``pl_slm_pretrain``, ``hf_specdec_draft``), 0.28
(``pl_mlp_regression``); lag-1 autocorrelation -0.02..0.19 (0.67 only in llm.c); excess
kurtosis 0.8-13 (t with 4.5-15 df has 0.6-12); relative noise grows as the loss falls in
three runs (0.12 -> 0.20, 0.21 -> 0.39) and shrinks in llm.c (0.036 -> 0.013). Grad-norm
log-sd was 0.04-0.27 with lag-1 autocorrelation 0-0.56; healthy max/median ratios up to 17
(54 in llm.c) are represented by the ``grad_norm_outlier`` hard negative (10-50x once).

Logging. Step ``t`` counts optimizer updates from 1. The train loss logged at step ``k *
log_every`` is the mean over the interval ``((k-1) * log_every, k * log_every]`` (as the HF
Trainer reports ``loss`` with ``logging_steps``); the LR and grad norm are the values at
that step; the validation loss is the value at every ``val_every``-th step. With
``naming="keras"`` the run is logged per epoch of ``val_every`` steps (``step_unit
"epoch"``, 0-based epochs, epoch-mean train loss, no grad norm) and truth onsets are epochs.

Kinds (log-scale sizes at ``strength=1``; onsets as fractions of the run). ``strength``
multiplies each log-scale size (the spike height, the rise, the growth, the grad-norm jump
or drop, the sine amplitude, the log of the noise multiplier, the log of the LR factor, the
log gap between where a stalled run stays and where its twin ends); for overfitting it is
also the fraction of validation progress that stops (capped at 1).

- ``overfitting`` (onset 0.3-0.7): validation progress saturates softly after onset and the
  LR no longer helps it; it then rises by 15-65 % (75 % of runs) or stays flat within 3 %
  while the train loss falls a further 10-30 % (so the gap widens either way).
- ``stalled``: the LR is 1e-2..1e-4 of what it should be and the run makes 0-5 % of the
  healthy progress (from step 1), or progress stops for good once 10-50 % of it is done.
  (Progress here is the reducible loss removed; the log gap to the twin's end scales.)
- ``divergence`` (0.3-0.9): the loss and val loss grow by e^3..e^7 over 2-100 % of the
  remaining steps and stay there; 40 % turn NaN (30 % of those log one inf first).
- ``loss_spikes`` (0.05-0.5): 1-6 spikes 15-40 noise sd high (within e^0.3..e^3), each
  decaying with a time constant of ``2 * log_every - 1`` to ``0.005 * n_steps`` steps;
  the grad norm rises with them (at most x4). The steps are in ``config["spike_steps"]``.
- ``oscillation`` (0 or 0.05-0.5): a sine of period 4 * log_every..n/50 steps and amplitude
  3-6 noise sd (within 0.1..1) with 1.5-3x the noise, or 2.5-6x the noise (at most 0.6
  log-sd); progress slows to 0-30 % (the slowdown scales with the strength).
- ``exploding_gradients`` (0.1-0.8): the grad norm is x10^1.2..x10^3 for 1-15 % of the run
  (30 %: to the end), with 1-3 loss spikes in 70 % of runs.
- ``vanishing_gradients`` (0 or 0.05-0.5): the grad norm falls to 1e-3..1e-6 of its level
  within 0-2 % of the run, to the end (70 %) or for 30-45 % of it; the progress rate is
  multiplied by the same factor (0 below 1e-3: at strength 1 the loss is flat).

Hard negatives (`HARD_NEGATIVES`): a loss bump of 0.2-0.5 (log) above the mid-warm-up loss
at the end of warm-up; a step schedule with a strong LR term (drops of 10-30 %); noise sd
0.3-0.6 with 4-6 df; convergence within the first ~10 % and a flat rest; cosine warm
restarts that lift the loss; a constant LR whose plateau ends with a x0.05-0.2 drop and a
new fall; an almost linear slow fall (exponential with tau = 1-3 runs); one grad-norm
outlier 10-50x its level.

Truth (labels). An injector proposes *candidate* kinds with the step where each starts:
the requested kind plus what usually comes with it (loss spikes with exploding gradients;
exploding gradients with divergence; stalled with vanishing gradients and oscillation). A
candidate is labelled only if the run's noise-free signal, compared with its clean twin
(the same run without the injection), meets that kind's numeric rule (the rules and their
thresholds are in `dynamics_stats.io._synthetic_labels`: e.g. the loss ends >= 10x above
its pre-onset level or turns non-finite; a spike is >= 8 sd of the logged noise and falls
back; the grad norm is >= 10x its running level on >= 3 steps; it is <= 1e-2 of the twin's
for the vanishing period). So a weak injection (``strength`` ~0.2-0.5) is often a
negative, and labels follow the definitions, not the request. ``onsets`` gives each label's
first step (the injection start; the first qualifying spike; the first step >= 10x for
exploding gradients). ``config`` keeps the request (``kind``, ``strength``), the candidates
(``config["candidates"]``, in steps) and each rule's statistic (``config["label_stats"]``).
Labels see the signal as logged (interval means), so an event averaged away by a long
logging interval or by per-epoch logging is not labelled.

A run and its healthy twin (same seed, ``kind=None``) share every healthy parameter and the
noise, so a test can measure an injection against the same run without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from dynamics_stats.core.errors import ConfigError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.core.types import FloatArray, JSONValue, Role
from dynamics_stats.io._synthetic_base import BaseParams, decay, draw_base, lr_schedule
from dynamics_stats.io._synthetic_build import (
    NAMINGS,
    CleanLogs,
    build_curves,
    clean_logs,
    log_records,
)
from dynamics_stats.io._synthetic_kinds import INJECTORS, Context, Overlay
from dynamics_stats.io._synthetic_labels import Signals, label_kinds, rule_inputs
from dynamics_stats.io._synthetic_negatives import HARD_NEGATIVES, add_feature, adjust_params
from dynamics_stats.io._synthetic_options import (
    KINDS,
    SyntheticRunOptions,
    draw_options,
    flat_config,
)

__all__ = ["HARD_NEGATIVES", "KINDS", "NAMINGS", "SyntheticTruth", "make_corpus", "make_run"]


@dataclass(frozen=True, slots=True)
class SyntheticTruth:
    """What was injected into a synthetic run.

    Parameters
    ----------
    kinds : tuple of str
        Problem kinds from `KINDS` that the run shows by the label rules (empty for a
        healthy run or an injection too weak to show), in `KINDS` order.
    onsets : mapping of str to int
        Kind -> first step where it shows (an epoch for ``naming="keras"``).
    hard_negative : str or None
        Name of the hard-negative pattern used, if any.
    config : mapping of str to JSON value
        Every generating parameter (options, drawn healthy parameters, injection).
    """

    kinds: tuple[str, ...]
    onsets: Mapping[str, int]
    hard_negative: str | None
    config: Mapping[str, JSONValue]

    def __post_init__(self) -> None:
        object.__setattr__(self, "onsets", MappingProxyType(dict(self.onsets)))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the truth as JSON-native values."""
        return {
            "kinds": list(self.kinds),
            "onsets": dict(self.onsets),
            "hard_negative": self.hard_negative,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.config.items()},
        }


def _inject(
    opts: SyntheticRunOptions,
    params: BaseParams,
    lr: FloatArray,
    rngs: tuple[np.random.Generator, np.random.Generator],
) -> tuple[Overlay, Overlay, dict[str, int], dict[str, JSONValue]]:
    """Build the overlay of the run and of its twin (the hard-negative feature alone).

    Returns both overlays, the injection's candidate kinds with onsets, and what was drawn.
    """
    n = params.n_steps
    progress = decay(params, np.cumsum(lr / params.lr_peak))
    overlay, twin = Overlay(n), Overlay(n)
    candidates: dict[str, int] = {}
    config: dict[str, JSONValue] = {}
    if opts.kind is not None:
        context = Context(params, progress, opts.strength, opts.log_every, rngs[0])
        candidates, config = INJECTORS[opts.kind](context, overlay)
    if opts.hard_negative is not None:
        context = Context(params, progress, opts.strength, opts.log_every, rngs[1])
        config |= add_feature(opts.hard_negative, context, twin)
        overlay.add(twin)
    return overlay, twin, candidates, config


def _signals(
    clean: CleanLogs,
    twin: CleanLogs,
    params: BaseParams,
    log_every: int,
    config: dict[str, JSONValue],
) -> Signals:
    """Gather what the label rules read (``log_every``: steps per logged train point)."""
    return Signals(
        run=clean,
        twin=twin,
        log_every=log_every,
        noise_phi=params.noise_phi,
        **rule_inputs(config),
    )


def _streams(seed: int) -> list[np.random.Generator]:
    """Independent generators for: healthy parameters, noise, injection, hard negative."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]


def make_run(  # noqa: PLR0913 - the options of a generator, all keyword-only
    kind: str | None = None,
    *,
    n_steps: int = 2000,
    seed: int = 0,
    log_every: int = 1,
    val_every: int | None = None,
    strength: float = 1.0,
    hard_negative: str | None = None,
    with_grad_norm: bool = True,
    with_lr: bool = True,
    loss_scale: float = 1.0,
    naming: str = "lightning",
) -> tuple[RunLog, SyntheticTruth]:
    """Generate one synthetic run with a known injected problem (or none).

    Parameters
    ----------
    kind : str or None, default=None
        Problem kind from `KINDS` to inject; None for a healthy run.
    n_steps : int, default=2000
        Number of optimizer steps (at least 20).
    seed : int, default=0
        Seed; the same arguments always give the same run.
    log_every : int, default=1
        Logging interval of train loss, LR and grad norm, in steps.
    val_every : int or None, default=None
        Validation interval in steps (the epoch length for ``naming="keras"``); None
        draws ``n_steps // k`` with ``k`` in 20..50 from the seed.
    strength : float, default=1.0
        Multiplies the (log-scale) size of the injected effect: 1 gives a clear case,
        0.2-0.5 borderline ones that the label rules may call negative.
    hard_negative : str or None, default=None
        A pattern from `HARD_NEGATIVES` to build in.
    with_grad_norm : bool, default=True
        Whether the grad norm is logged (never for ``naming="keras"``). Without it a
        gradient kind is still injected and recorded in the truth, but cannot be seen.
    with_lr : bool, default=True
        Whether the learning rate is logged.
    loss_scale : float, default=1.0
        Multiplies every loss (and the grad norm, as scaling a loss scales its gradient).
    naming : {"lightning", "hf", "keras", "slash"}, default="lightning"
        Metric names as that logger writes them (see `NAMINGS`).

    Returns
    -------
    run : RunLog
        Format ``"synthetic"``; ``hparams`` holds the scalar generating parameters.
    truth : SyntheticTruth
        The labelled kinds (those whose numeric rule holds), their onsets and every
        generating parameter.

    Raises
    ------
    ConfigError
        If an option is out of range or names an unknown kind, hard negative or naming.

    Examples
    --------
    >>> run, truth = make_run("divergence", n_steps=500, seed=3)
    >>> truth.kinds[0], run.format
    ('divergence', 'synthetic')
    """
    opts = SyntheticRunOptions(
        kind, n_steps, seed, log_every, val_every, strength, hard_negative, loss_scale, naming
    )
    base_rng, noise_rng, kind_rng, negative_rng = _streams(seed)
    params = draw_base(base_rng, n_steps)
    drawn_val_every = max(1, n_steps // int(base_rng.integers(20, 51)))
    val_every = val_every or drawn_val_every
    if hard_negative is not None:
        params = adjust_params(hard_negative, params, negative_rng)
    lr = lr_schedule(params)
    overlay, twin, candidates, config = _inject(opts, params, lr, (kind_rng, negative_rng))
    clean = clean_logs(params, overlay, lr)
    onsets: dict[str, int] = {}
    if candidates:
        logged_every = val_every if naming == "keras" else log_every
        signals = _signals(clean, clean_logs(params, twin, lr), params, logged_every, config)
        onsets, config["label_stats"] = label_kinds(candidates, signals)
        config["candidates"] = dict(candidates)
    curves = build_curves(params, overlay, clean, noise_rng).scaled(loss_scale)
    with_grad_norm = with_grad_norm and naming != "keras"
    keep: set[Role] = {"train_loss", "val_loss"}
    keep |= {"learning_rate"} if with_lr else set()
    keep |= {"grad_norm"} if with_grad_norm else set()
    records, unit, hints = log_records(
        curves, params, naming=naming, intervals=(log_every, val_every), keep=keep
    )
    if naming == "keras":
        onsets = {k: (v - 1) // val_every for k, v in onsets.items()}
    full = flat_config(opts, val_every, with_grad_norm, with_lr, params) | config
    truth = SyntheticTruth(tuple(k for k in KINDS if k in onsets), onsets, hard_negative, full)
    scalars = {k: v for k, v in full.items() if v is None or isinstance(v, (bool, int, float, str))}
    run = RunLog(
        source=f"synthetic:{kind or 'healthy'}:seed={seed}",
        format="synthetic",
        records=records,
        step_unit=unit,
        hparams=scalars,
        role_hints=hints,
    )
    return run, truth


def make_corpus(n_runs: int, *, seed: int = 0) -> Iterator[tuple[RunLog, SyntheticTruth]]:
    """Yield ``n_runs`` varied synthetic runs, deterministically from ``seed``.

    About 30 % are requested healthy (half of them hard negatives) and the rest spread
    evenly over `KINDS`, with strengths log-uniform on 0.2-2.5 (a continuum from
    sub-threshold to clear; weak injections are labelled negative by the rules, so about
    half of the runs carry no label); lengths are log-uniform on 100..100,000 steps, with
    logging intervals that leave at least 50 logged points, loss scales log-uniform on
    1e-3..1e3 (1 in 20 % of runs) and every naming style.

    Parameters
    ----------
    n_runs : int
        Number of runs.
    seed : int, default=0
        Seed of the whole corpus; run ``i`` depends only on ``(seed, i)``.

    Yields
    ------
    (RunLog, SyntheticTruth)
        One run and its truth at a time (the corpus is generated lazily).

    Raises
    ------
    ConfigError
        If ``n_runs`` or ``seed`` is negative (raised when iteration starts).
    """
    if not isinstance(n_runs, int) or n_runs < 0 or not isinstance(seed, int) or seed < 0:
        raise ConfigError(
            f"make_corpus needs n_runs and seed as ints >= 0; got {n_runs!r} and {seed!r}."
        )
    for i in range(n_runs):
        options = draw_options(np.random.default_rng([seed, i]))
        yield make_run(**options)
