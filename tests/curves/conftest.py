import numpy as np
import pytest

from dynamics_stats import MetricSeries


def series(values, steps=None, name="loss", role="train_loss"):
    values = np.asarray(values, float)
    steps = np.arange(len(values)) if steps is None else np.asarray(steps)
    nan = np.full(len(values), np.nan)
    return MetricSeries(name, role, "min", steps, values, nan, nan)


@pytest.fixture
def make_series():
    return series
