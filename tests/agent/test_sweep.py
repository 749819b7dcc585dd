"""analyze_sweep_runs: per-run analyses in a process pool or on Dask, then the correlation."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dynamics_stats.agent._sweep_worker import analyze_sweep_run, steps_to_converge
from dynamics_stats.agent.sweep import (
    analyze_runs,
    analyze_sweep_runs,
    build_sweep_table,
    correlate_runs,
)
from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.errors import ConfigError, InputError
from dynamics_stats.io.sweep import SweepSource, load_sweep
from dynamics_stats.io.synthetic import make_run

REPO = Path(__file__).resolve().parents[2]
DIGITS_SWEEP = REPO / "dynamics_stats" / "examples" / "digits_sweep"
LR_DIVERGES = 0.003  # half of the 20 runs, lr 1e-4..1e-1 log-spaced, diverge


def _write_synthetic_run(folder: Path, params: dict[str, float | int], *, seed: int) -> None:
    """A 200-step run that diverges when lr > LR_DIVERGES; ``tag`` does nothing."""
    kind = "divergence" if params["lr"] > LR_DIVERGES else None
    run, truth = make_run(kind, n_steps=200, seed=seed)
    assert truth.kinds[:1] == ((kind,) if kind else ())
    wide = run.records.pivot_table(index="step", columns="metric", values="value", dropna=False)
    wide.index = wide.index.astype(int)
    folder.mkdir(parents=True)
    wide.reset_index().to_csv(folder / "metrics.csv", index=False)
    (folder / "hparams.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(scope="module")
def synthetic_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic_sweep")
    rng = np.random.default_rng(7)
    for index, lr in enumerate(np.geomspace(1e-4, 1e-1, 20)):
        params = {"lr": float(lr), "tag": int(rng.integers(0, 1000))}
        _write_synthetic_run(root / f"run_{index:02d}", params, seed=index)
    (root / "zz_broken").mkdir()
    (root / "zz_broken" / "metrics.csv").write_text("not,a\nlog")
    return root


@pytest.fixture(scope="module")
def serial_records(synthetic_sweep: Path) -> dict[str, object]:
    source = load_sweep(synthetic_sweep)
    return {r.run_id: r for r in analyze_runs(source, jobs=1, progress=False)}


def _subset(root: Path) -> SweepSource:
    """Five runs and the broken one: enough to compare the parallel maps with the serial one."""
    source = load_sweep(root)
    return replace(source, runs=(*source.runs[:20:4], source.runs[-1]))


def test_process_pool_gives_the_serial_records(
    synthetic_sweep: Path, serial_records: dict[str, object]
) -> None:
    source = _subset(synthetic_sweep)
    pooled = analyze_runs(source, jobs=2, progress=False)
    assert len(pooled) == 6
    assert {r.run_id: r for r in pooled} == {
        r.run_id: serial_records[r.run_id] for r in source.runs
    }


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_records(
    synthetic_sweep: Path, serial_records: dict[str, object]
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    source = _subset(synthetic_sweep)
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        records = analyze_runs(source, client=client, progress=False)
        two = replace(source, runs=source.runs[:2])
        by_address = analyze_runs(two, client=cluster.scheduler_address, progress=False)
    assert {r.run_id: r for r in records} == {
        r.run_id: serial_records[r.run_id] for r in source.runs
    }
    assert {r.run_id: r for r in by_address} == {
        r.run_id: serial_records[r.run_id] for r in two.runs
    }


def test_known_effect_is_recovered_and_broken_run_listed(
    synthetic_sweep: Path, serial_records: dict[str, object]
) -> None:
    source = load_sweep(synthetic_sweep)
    result = correlate_runs(source, list(serial_records.values()))
    assert result.objective == "best_val_loss" and result.n_runs == 20
    assert any(line.startswith("run 'zz_broken' was left out") for line in result.limitations)
    lr, tag = result.parameter("lr"), result.parameter("tag")
    divergence = [link for link in lr.pathologies if link.kind == "divergence"]
    assert divergence and divergence[0].direction == "increases"
    assert not tag.significant and not tag.pathologies
    p_div = {r.run_id: dict(r.problems)["p_divergence"] for r in result.runs}
    lrs = {r.run_id: dict(r.params)["lr"] for r in source.runs if r.run_id in p_div}
    diverged = [p_div[k] for k in p_div if lrs[k] > LR_DIVERGES]
    healthy = [p_div[k] for k in p_div if lrs[k] <= LR_DIVERGES]
    assert np.median(diverged) > 0.5 > max(healthy)


@pytest.mark.slow
def test_outcomes_of_real_digits_runs_match_their_logs() -> None:
    source = load_sweep(DIGITS_SWEEP)
    source = replace(source, runs=source.runs[:12])
    records = analyze_runs(source, jobs=2, progress=False)
    table = build_sweep_table(source, records)
    assert table.objective == "best_val_loss" and table.direction == "minimize"
    assert list(table.params.index) == [r.run_id for r in source.runs]
    for run_id, row in table.outcomes.iterrows():
        logged = pd.read_csv(DIGITS_SWEEP / str(run_id) / "metrics.csv")
        val = logged.dropna(subset=["val_loss"])
        assert row["best_val_loss"] == pytest.approx(val["val_loss"].min(), rel=1e-6)
        assert row["final_val_loss"] == pytest.approx(val["val_loss"].iloc[-1], rel=1e-6)
        assert val["step"].min() <= row["steps_to_converge"] <= val["step"].max() + 1
        probabilities = row[[c for c in table.outcomes.columns if c.startswith("p_")]]
        assert len(probabilities) == 7 and probabilities.between(0, 1).all()
    assert set(table.params.columns) >= {"lr", "hidden", "optimizer", "tag"}


def _series(values: np.ndarray, direction: str = "min") -> MetricSeries:
    steps = np.arange(0, 10 * len(values), 10)
    nan = np.full(len(values), np.nan)
    return MetricSeries("val_metric", "val_loss", direction, steps, values, nan, nan)


def test_steps_to_converge_on_known_curves() -> None:
    falling = np.array([5.0, 3.0, 2.0, 1.5, 1.15, 1.1, 1.06, 1.04, 1.02, 1.0])
    # total gain 4.0; 95 % of it (3.8) is first reached at 1.15 (step 40)
    assert steps_to_converge(_series(falling)) == 40
    assert steps_to_converge(_series(-falling, "max"), maximize=True) == 40
    assert steps_to_converge(_series(np.ones(10))) == 0
    assert math.isnan(steps_to_converge(_series(np.full(10, np.nan))))


def test_table_source_has_no_probabilities_and_says_so(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    lr = 10 ** rng.uniform(-4, -1, 40)
    frame = pd.DataFrame(
        {
            "lr": lr,
            "tag": rng.integers(0, 1000, 40),
            "val_loss": 0.5 + 0.3 * np.log10(lr) ** 2 / 10 + rng.normal(0, 0.01, 40),
        }
    )
    frame.to_csv(tmp_path / "sweep.csv", index=False)
    result = analyze_sweep_runs(tmp_path / "sweep.csv", progress=False)
    assert result.objective == "val_loss" and result.n_runs == 40
    assert all(
        not dict(r.problems) or set(dict(r.problems).values()) == {None} for r in result.runs
    )
    assert any("no training curves" in line for line in result.limitations)
    assert result.parameter("lr").significant and not result.parameter("tag").significant


def test_bad_options_are_input_errors(synthetic_sweep: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="jobs must be an int >= 1"):
        analyze_runs(load_sweep(synthetic_sweep), jobs=0)
    shutil.copytree(synthetic_sweep / "run_00", tmp_path / "a")
    with pytest.raises(InputError, match="no run of the sweep has the objective 'val_acc'"):
        analyze_sweep_runs(tmp_path, objective="val_acc", jobs=1, progress=False)


def test_worker_reports_a_missing_objective_as_a_note(synthetic_sweep: Path) -> None:
    run = load_sweep(synthetic_sweep).runs[0]
    record = analyze_sweep_run(run, "val_acc")
    assert record.error is None
    assert any("no metric 'val_acc'" in note for note in record.notes)


def test_optuna_study_top_parameter_agrees_with_optuna_importance(tmp_path: Path) -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    noise = np.random.default_rng(5).normal(0, 0.05, 40)

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        layers = trial.suggest_int("layers", 1, 4)
        trial.suggest_int("tag", 0, 1000)
        return float(np.log10(lr) + 0.1 * layers + noise[trial.number])

    study = optuna.create_study(
        study_name="s", storage=storage, sampler=optuna.samplers.RandomSampler(seed=2)
    )
    study.optimize(objective, n_trials=40)
    theirs = optuna.importance.get_param_importances(study)
    result = analyze_sweep_runs(f"optuna:{storage}#s", jobs=1, progress=False)
    assert result.objective == "value" and result.n_runs == 40
    assert result.parameters[0].name == next(iter(theirs)) == "lr"
    assert result.parameters[0].significant and not result.parameter("tag").significant
