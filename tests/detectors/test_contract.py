"""Every detector class through the same checks (sklearn's ``check_estimator`` idea).

The classes are found by scanning the modules of ``dynamics_stats.detectors`` for classes
with ``name``, ``requires``, ``kinds`` and ``detect``; the registry will replace the scan.
"""

import dataclasses
import functools
import importlib
import inspect
import json
import math
import pkgutil

import numpy as np
import pandas as pd
import pytest

import dynamics_stats.detectors as package
from dynamics_stats import RunLog, validate_run
from dynamics_stats.core.types import ROLES
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors.base import Evidence
from dynamics_stats.detectors.run import run_detectors
from dynamics_stats.io.synthetic import make_run

_NOT_DETECTORS = {"base", "run"}


def _detector_classes():
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name in _NOT_DETECTORS:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and all(
                hasattr(cls, a) for a in ("name", "requires", "kinds", "detect")
            ):
                found[cls.__name__] = cls
    return [found[k] for k in sorted(found)]


CLASSES = _detector_classes()


def _records(columns):
    frames = [
        pd.DataFrame({"metric": name, "step": steps, "value": values})
        for name, (steps, values) in columns.items()
    ]
    return pd.concat(frames).assign(epoch=np.nan, wall_time=np.nan, line=0)


def _hand_made(columns, hparams=None):
    records = _records(columns)
    return ModelledRun(validate_run(RunLog("t", "test", records, hparams=hparams or {})))


@functools.cache
def _runs():
    """Named runs covering full, partial, short, odd and missing inputs."""
    runs = {}
    for name, kind, seed, options in (
        ("healthy_hf", None, 0, {"naming": "hf"}),
        ("nan_divergence", "divergence", 3, {}),
        ("spikes_sparse_log", "loss_spikes", 1, {"log_every": 10}),
        ("keras_epochs", "overfitting", 2, {"naming": "keras"}),
    ):
        run, _ = make_run(kind, n_steps=400, seed=seed, **options)
        artifacts = validate_run(run)
        runs[name] = model_curves(artifacts)
        runs[name + "_no_curves"] = ModelledRun(artifacts)
    one_to_ten = np.arange(1, 11)
    runs["three_points"] = _hand_made({"loss": (one_to_ten[:3], [1.0, 0.9, 0.8])})
    runs["one_point"] = _hand_made({"loss": ([1], [1.0])})
    runs["ten_points_all"] = _hand_made(
        {
            "loss": (one_to_ten, np.linspace(2, 1, 10)),
            "val_loss": (one_to_ten[4::5], [1.5, 1.2]),
            "grad_norm": (one_to_ten, np.ones(10)),
            "lr": (one_to_ten, np.full(10, 1e-3)),
        },
        {"max_grad_norm": 1.0},
    )
    runs["all_nan_loss"] = _hand_made({"loss": (one_to_ten, np.full(10, np.nan))})
    runs["negative_loss"] = _hand_made({"loss": (np.arange(1, 301), -np.linspace(1, 5, 300))})
    runs["constant_loss"] = _hand_made({"loss": (np.arange(1, 301), np.full(300, 0.5))})
    runs["only_val_loss"] = _hand_made({"val_loss": (np.arange(1, 301), np.linspace(2, 1, 300))})
    return runs


def _snapshot(run):
    arrays = [(m.steps.copy(), m.values.copy()) for m in run.artifacts.metrics]
    curves = {k: (c.steps.copy(), c.level.copy()) for k, c in run.curves.items()}
    return arrays, curves


def _same(a, b):
    return all(
        np.array_equal(x, y, equal_nan=True)
        for pair_a, pair_b in zip(a, b, strict=True)
        for x, y in zip(pair_a, pair_b, strict=True)
    )


def _as_dicts(evidence):
    return [e.to_dict() for e in evidence]


def _can_run(cls, run):
    return all(role in run.artifacts.primary for role in cls.requires)


@pytest.fixture(params=CLASSES, ids=lambda cls: cls.__name__)
def cls(request):
    return request.param


def test_the_scan_finds_the_detectors():
    names = {cls.__name__ for cls in CLASSES}
    expected = {"DivergenceDetector", "SpikeDetector", "OscillationDetector"}
    expected |= {"GradientDetector", "ClippingDetector", "NullDetector"}
    assert expected <= names


def test_declaration(cls):
    assert isinstance(cls.name, str) and cls.name
    assert isinstance(cls.requires, frozenset) and cls.requires <= set(ROLES)
    assert isinstance(cls.kinds, tuple) and all(isinstance(k, str) for k in cls.kinds)
    assert len(set(cls.kinds)) == len(cls.kinds)
    assert dataclasses.is_dataclass(cls) and hasattr(cls, "__slots__")
    detector = cls()
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        detector.name = "changed"  # a class constant, not settable on the instance
    for field in dataclasses.fields(cls):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(detector, field.name, getattr(detector, field.name))
    assert cls() == detector  # parameters define the detector


def _check_evidence(cls, evidence):
    assert isinstance(evidence, Evidence)
    assert evidence.kind in cls.kinds and evidence.detector == cls.name
    assert type(evidence.score) is float and math.isfinite(evidence.score)
    assert evidence.severity in ("info", "warning", "critical")
    assert evidence.onset_step is None or isinstance(evidence.onset_step, int)
    assert all(isinstance(s, int) for s in evidence.steps) and len(evidence.steps) <= 50
    # plain Python numbers, never numpy scalars (STYLE §4)
    odd = [(k, type(v).__name__) for k, v in evidence.values if type(v) is not float]
    assert not odd and all(isinstance(k, str) for k, _ in evidence.values)
    assert isinstance(evidence.message, str) and evidence.message
    json.dumps(evidence.to_dict(), allow_nan=False)


@pytest.mark.parametrize("run_name", sorted(_runs()))
def test_detect_on_full_partial_short_and_odd_runs(cls, run_name):
    run = _runs()[run_name]
    before = _snapshot(run)
    if not _can_run(cls, run):
        result = run_detectors(run, [cls()])
        assert result.ran == () and result.skipped[0][0] == cls.name
        return
    first = cls().detect(run)
    assert isinstance(first, tuple)
    kinds = [e.kind for e in first]
    assert len(kinds) == len(set(kinds))  # one evidence per kind
    for evidence in first:
        _check_evidence(cls, evidence)
    assert _as_dicts(cls().detect(run)) == _as_dicts(first)  # deterministic (NaN-safe)
    assert _same(_snapshot(run)[0], before[0]) and _same(
        list(_snapshot(run)[1].values()), list(before[1].values())
    )


def test_missing_metric_is_skipped_by_the_runner_not_raised(cls):
    run = _runs()["only_val_loss"]
    result = run_detectors(run, [cls()])
    if _can_run(cls, run):
        assert result.ran == (cls.name,)
    else:
        assert result.ran == () and "needs" in result.skipped[0][1]
