"""Property tests: validation never crashes on messy records; it repairs or raises its own error."""

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamics_stats import InvalidRunError, RunLog, validate_run

NAMES = st.sampled_from(["loss", "val_loss", "lr", "grad_norm", "acc", "weird name/<x>"])
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["nan", "inf", "-inf", "abc", "", " 1.5 ", "tensor(0.3)", "1e400", "None"]),
    st.integers(min_value=-(10**6), max_value=10**6),
)
STEPS = st.one_of(
    st.integers(min_value=-5, max_value=500), st.just(float("nan")), st.floats(0, 500)
)
ROW = st.tuples(NAMES, STEPS, st.one_of(st.just(float("nan")), st.integers(0, 5)), VALUES)


def _run(rows):
    frame = pd.DataFrame(rows, columns=["metric", "step", "epoch", "value"])
    frame["wall_time"] = np.nan
    frame["line"] = np.arange(2, len(frame) + 2)
    frame = frame[["metric", "step", "epoch", "wall_time", "value", "line"]]
    return RunLog(source="fuzz", format="test", records=frame)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=0, max_size=60))
def test_validation_repairs_or_raises_its_own_error(rows):
    try:
        artifacts = validate_run(_run(rows))
    except InvalidRunError as err:
        assert err.report.is_fatal
        return
    for series in artifacts.metrics:
        steps = series.steps
        assert np.all(np.diff(steps) > 0), "steps must be strictly increasing"
        assert len(series.values) == len(steps)
    for issue in artifacts.report.issues:
        assert issue.message


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.floats(0.01, 10)), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_row_order_of_distinct_steps_does_not_change_the_result(pairs, random):
    unique = {step: value for step, value in pairs}
    rows = [("loss", s, 0, v) for s, v in unique.items()]
    shuffled = rows[:]
    random.shuffle(shuffled)
    a = validate_run(_run(sorted(rows))).get("train_loss")
    b = validate_run(_run(shuffled)).get("train_loss")
    # Out-of-order writes are read as a resumed run: later writes win, so only the kept
    # subset may differ; what is kept is always consistent with some write of that step.
    for step, value in zip(b.steps, b.values, strict=True):
        assert math.isclose(value, unique[int(step)])
    assert a.steps.tolist() == sorted(unique)
