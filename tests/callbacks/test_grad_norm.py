"""The total gradient norm and the schedule that bounds its cost."""

from __future__ import annotations

import math
import time

import pytest

from dynamics_stats.callbacks._grad_norm import GradNormSchedule, total_grad_norm

torch = pytest.importorskip("torch")


def test_total_grad_norm_matches_torch() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    net(torch.randn(4, 8)).sum().backward()
    expected = torch.nn.utils.get_total_norm([p.grad for p in net.parameters()])
    assert total_grad_norm(net.parameters()) == pytest.approx(float(expected), rel=1e-6)


def test_total_grad_norm_is_none_without_gradients_and_nan_with_a_nan() -> None:
    layer = torch.nn.Linear(3, 2)
    assert total_grad_norm(layer.parameters()) is None
    layer.weight.grad = torch.full((2, 3), math.nan)
    assert math.isnan(total_grad_norm(layer.parameters()))  # type: ignore[arg-type]


def run_schedule(
    schedule: GradNormSchedule,
    norm_seconds: float,
    step_seconds: float,
    *,
    started_ago: float = 0.0,
    charged_seconds: float = 0.0,
) -> int:
    """Steps of ``step_seconds`` (busy wait); return how many norms were computed in 40.

    Each norm's step began ``started_ago`` seconds before its computation (``started``) and
    leaves ``charged_seconds`` of bookkeeping (`GradNormSchedule.charge`).
    """

    def wait(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    computed = 0
    for _ in range(40):
        if schedule.due():
            schedule.compute(lambda: wait(norm_seconds), time.perf_counter() - started_ago)
            if charged_seconds:
                schedule.charge(charged_seconds)
            computed += 1
        wait(step_seconds)
    return computed


def test_a_fixed_interval_is_kept() -> None:
    assert run_schedule(GradNormSchedule(every=4), 0.0, 0.0) == 10


def test_a_cheap_norm_is_computed_at_every_step() -> None:
    # a norm (a no-op, about a microsecond) against a 500 us budget (5% of a 10 ms step):
    # a margin that a loaded machine's scheduling hiccups do not eat
    schedule = GradNormSchedule(cost_frac=0.05)
    assert run_schedule(schedule, norm_seconds=0.0, step_seconds=0.01) == 40


def test_a_costly_norm_is_spaced_out_to_its_budget() -> None:
    schedule = GradNormSchedule(cost_frac=0.002)
    # the norm costs as much as the step: 500 steps wanted, capped at 64
    computed = run_schedule(schedule, norm_seconds=0.001, step_seconds=0.001)
    assert schedule.interval == 64
    assert computed <= 8 + 2  # the warm-up steps, then at most one more per 64 steps


def test_the_bookkeeping_charged_to_a_norm_counts_in_its_budget() -> None:
    # the norm itself is free, but each one leaves 1 ms of work at a 1 ms step
    schedule = GradNormSchedule(cost_frac=0.002)
    computed = run_schedule(schedule, 0.0, step_seconds=0.001, charged_seconds=0.001)
    assert schedule.interval == 64
    assert computed <= 8 + 2


def test_the_time_since_the_hook_started_is_charged() -> None:
    schedule = GradNormSchedule(cost_frac=0.002)
    computed = run_schedule(schedule, 0.0, step_seconds=0.001, started_ago=0.001)
    assert schedule.interval == 64
    assert computed <= 8 + 2
