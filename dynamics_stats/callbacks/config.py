"""`MonitorConfig`: the settings of a training monitor (Lightning or Hugging Face)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dynamics_stats.core._checks import check_float, check_int
from dynamics_stats.core.analysis_config import AnalysisConfig
from dynamics_stats.core.errors import ConfigError

__all__ = ["MonitorConfig"]


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    """What a monitor checks, how often, and where its results go.

    Parameters
    ----------
    analysis_every_n_steps : int, default=500
        A full calibrated analysis of the history so far is due at every multiple of this
        many steps. It starts at the first step observed from then on (Lightning's buffered
        losses: at the next check of the buffered steps, within about
        ``max_check_delay_seconds``), so analyses come this many steps apart on average
        unless a check covers more steps, the worker is still busy or the time budget is
        spent (then the next check retries).
    analyze_on_validation : bool, default=False
        Also run the full analysis after each validation (at most one pending at a time).
    analysis_in_background : bool, default=True
        Run the full analysis in a separate worker process so training does not wait for
        it; its result is read at the next check of the buffered steps after it is ready
        (see ``check_every_n_steps``). The worker also runs the spike and changepoint
        tests of each checked block (their alerts arrive at a later check, with their own
        steps; ``finish`` waits for the last ones), except with ``checkpoint_before_spike``.
        The NaN/Inf checks always run in the training process. When False everything runs
        in the training process, the analysis at the step that asks for it.
    max_analysis_time_frac : float or None, default=0.01
        Full analyses are postponed while the time the training process has spent on them
        exceeds this fraction of the wall time since training started, so their cost stays
        bounded whatever the step time (a due analysis runs as soon as the budget allows).
        Inline, that time is the whole analysis; in the background it is taking the
        history snapshot, sending it and reading the result (the worker process runs at
        the lowest CPU priority with single-threaded numerical libraries). None: no
        budget, every due analysis runs.
    alert_probability : float, default=0.5
        A core kind whose calibrated probability reaches this value raises an alert (once
        per kind).
    spike_z : float, default=6.0
        Robust z-score (log scale, against the last 64 steps) above which a loss or
        gradient-norm value is a spike.
    spike_min_factor : float, default=2.0
        A spike must also be at least this many times the recent median (noisy gradient
        norms often pass the z-score alone).
    changepoint_hazard : float, default=0.004
        Prior probability of a level change per changepoint update (BOCPD).
    changepoint_block : int, default=64
        Steps averaged into one changepoint update (fewer updates, less noise); the first
        changepoint can be reported after 10 blocks.
    check_every_n_steps : int, default=4096
        Most steps buffered before the spike and changepoint tests run on them as one
        block (a few array operations instead of many small ones per step); usually
        ``max_check_delay_seconds`` comes first, so the cost of the block checks is a
        bounded share of the training time. The outcome does not depend on it, only how
        soon it is known. A loss or gradient norm read as a number is checked for NaN/Inf
        at its own step whatever this value (see ``check_loss_every_step``). With
        ``checkpoint_before_spike`` every step is tested at once, so the checkpoint follows
        the spike.
    max_check_delay_seconds : float, default=1.0
        Wall time a buffered block lasts: at each test the next block's size is set to the
        steps this long takes at the step rate of the last block, so a spike is reported
        within about a second of training (at the next step when a step takes longer;
        later when the tests run in the busy worker) without reading the clock at every
        step. When the steps suddenly slow down by a
        factor k, one block lasts up to k times longer.
    check_loss_every_step : bool or None, default=None
        Read the training loss at every step, so a NaN/Inf loss is found at its own step.
        False: Lightning's loss tensors are buffered unread and read with their block
        (``check_every_n_steps``, ``max_check_delay_seconds``), so a NaN/Inf loss is
        reported at the next block check, still with its own step. Reading a tensor costs
        5-10 us per step on the CPU and a device synchronisation per step on a GPU. None:
        at every step only when an intervention (``stop_on_divergence``,
        ``checkpoint_before_spike``) is on, so it acts at the step. (Hugging Face's Trainer
        hands over plain numbers at each log: always checked at once.)
    grad_norm_every : int or None, default=None
        Compute the gradient norm (when the trainer does not log one) every this many
        steps. None: choose the interval from measured times so that computing the norm
        costs at most ``grad_norm_cost_frac`` of the training time (every step unless the
        steps are very short). Every step with ``checkpoint_before_spike``.
    grad_norm_cost_frac : float, default=0.001
        Share of the step time the gradient norm may cost when ``grad_norm_every`` is None
        (under Lightning with its hook and bookkeeping; under Hugging Face the computation).
    max_points_per_metric : int, default=4096
        Points of history kept per metric; beyond it the history is thinned by two.
    warn : bool, default=True
        Send warning and critical alerts through `warnings.warn` as well as logging.
    log_probabilities : bool, default=True
        Log the seven calibrated probabilities to the trainer's own logger
        (``dynamics/p_<kind>``) after each full analysis.
    write_report : bool, default=True
        Write ``dynamics_stats_analysis.json`` and ``.txt`` next to the run's logs at the end.
    analysis : AnalysisConfig, default=AnalysisConfig()
        Settings of the full analysis.

    Raises
    ------
    ConfigError
        If a value is out of range.
    """

    analysis_every_n_steps: int = 500
    analyze_on_validation: bool = False
    analysis_in_background: bool = True
    max_analysis_time_frac: float | None = 0.01
    alert_probability: float = 0.5
    spike_z: float = 6.0
    spike_min_factor: float = 2.0
    changepoint_hazard: float = 1 / 250
    changepoint_block: int = 64
    check_every_n_steps: int = 4096
    max_check_delay_seconds: float = 1.0
    check_loss_every_step: bool | None = None
    grad_norm_every: int | None = None
    grad_norm_cost_frac: float = 0.001
    max_points_per_metric: int = 4096
    warn: bool = True
    log_probabilities: bool = True
    write_report: bool = True
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def __post_init__(self) -> None:
        check_int(self, "analysis_every_n_steps", low=1)
        check_float(self, "alert_probability", low=0.0, high=1.0)
        if self.max_analysis_time_frac is not None:
            check_float(self, "max_analysis_time_frac", low=0.0, high=1.0, low_open=True)
        check_float(self, "spike_z", low=0.0, low_open=True)
        check_float(self, "spike_min_factor", low=1.0)
        check_float(self, "changepoint_hazard", low=0.0, high=1.0, low_open=True)
        check_int(self, "changepoint_block", low=1)
        check_int(self, "check_every_n_steps", low=1)
        check_float(self, "max_check_delay_seconds", low=0.0)
        if self.check_loss_every_step not in (None, True, False):
            raise ConfigError(
                "MonitorConfig.check_loss_every_step must be True, False or None; got "
                f"{self.check_loss_every_step!r}."
            )
        if self.grad_norm_every is not None:
            check_int(self, "grad_norm_every", low=1)
        check_float(self, "grad_norm_cost_frac", low=0.0, high=1.0, low_open=True)
        check_int(self, "max_points_per_metric", low=64)
        if not isinstance(self.analysis, AnalysisConfig):
            raise ConfigError(
                f"MonitorConfig.analysis must be an AnalysisConfig; got "
                f"{type(self.analysis).__name__}. Build one with AnalysisConfig(...)."
            )
