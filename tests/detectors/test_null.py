import doctest

import numpy as np
import pandas as pd

import dynamics_stats.detectors.null as module
from dynamics_stats import RunLog, validate_run
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.null import NullDetector
from dynamics_stats.detectors.run import run_detectors
from dynamics_stats.io.synthetic import make_run


def test_never_fires_and_needs_nothing():
    run, _ = make_run("divergence", n_steps=300, seed=3)
    modelled = ModelledRun(validate_run(run))
    assert NullDetector().detect(modelled) == ()
    assert NullDetector.requires == frozenset() and NullDetector.kinds == ()
    records = pd.DataFrame({"metric": "val_acc", "step": [1, 2], "value": [0.1, np.nan]})
    odd = ModelledRun(
        validate_run(RunLog("t", "t", records.assign(epoch=np.nan, wall_time=np.nan, line=0)))
    )
    result = run_detectors(odd, [NullDetector()])
    assert result.ran == ("null",) and result.evidence == ()


def test_doctests():
    assert doctest.testmod(module).failed == 0
