"""load_sweep: folders of real runs, Optuna and MLflow stores written by those libraries, tables."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest
import yaml

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io.sweep import load_sweep

REPO = Path(__file__).resolve().parents[2]
DIGITS_SWEEP = REPO / "dynamics_stats" / "examples" / "digits_sweep"


def _fingerprint(root: Path) -> dict[str, str]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


# --- a folder of real Lightning runs ------------------------------------------------------


def test_folder_of_lightning_runs_lists_runs_and_hparams() -> None:
    before = _fingerprint(DIGITS_SWEEP)
    sweep = load_sweep(DIGITS_SWEEP)
    assert sweep.kind == "folder" and sweep.per_run_logs
    run_folders = sorted(p.name for p in DIGITS_SWEEP.iterdir() if p.is_dir())
    assert [r.run_id for r in sweep.runs] == run_folders and len(run_folders) == 24
    first = sweep.runs[0]
    saved = yaml.safe_load((DIGITS_SWEEP / first.run_id / "hparams.yaml").read_text())
    assert dict(first.params) == saved
    assert isinstance(dict(first.params)["hidden"], int)
    assert isinstance(dict(first.params)["optimizer"], str)
    assert first.log == str(DIGITS_SWEEP / first.run_id)
    assert _fingerprint(DIGITS_SWEEP) == before


def test_unsafe_hparams_become_a_limitation(tmp_path: Path) -> None:
    for name, text in (("a", "lr: 0.1\n"), ("b", "lr: !!python/object:os.system {}\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "hparams.yaml").write_text(text)
        (tmp_path / name / "metrics.csv").write_text("step,train_loss\n0,1.0\n1,0.5\n")
    sweep = load_sweep(tmp_path)
    assert dict(sweep.runs[0].params) == {"lr": 0.1}
    assert sweep.runs[1].params == ()
    assert len(sweep.limitations) == 1 and "run 'b'" in sweep.limitations[0]


def test_empty_or_missing_folder_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="holds no run"):
        load_sweep(tmp_path)
    with pytest.raises(LoadError, match="no such file or folder"):
        load_sweep(tmp_path / "nope")


# --- an Optuna study in SQLite ---------------------------------------------------------------


@pytest.fixture(scope="module")
def optuna_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db = tmp_path_factory.mktemp("optuna") / "study.db"

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        layers = trial.suggest_int("layers", 1, 4)
        opt = trial.suggest_categorical("optimizer", ["adam", "sgd"])
        if trial.number == 5:
            raise optuna.TrialPruned()
        loss = abs(math.log10(lr) + 2) + 0.1 * layers + (0.2 if opt == "sgd" else 0.0)
        for step in range(1, 11):
            trial.report(loss + 1.0 / step, step)
        return loss

    study = optuna.create_study(
        study_name="mlp", storage=f"sqlite:///{db}", sampler=optuna.samplers.RandomSampler(seed=1)
    )
    study.optimize(objective, n_trials=12)
    optuna.create_study(study_name="other", storage=f"sqlite:///{db}")
    return db


def test_optuna_study_trials_become_runs(optuna_db: Path) -> None:
    import optuna

    before = _fingerprint(optuna_db)
    sweep = load_sweep(f"optuna:sqlite:///{optuna_db}#mlp")
    assert _fingerprint(optuna_db) == before
    study = optuna.load_study(study_name="mlp", storage=f"sqlite:///{optuna_db}")
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert sweep.kind == "optuna" and sweep.direction == "minimize"
    assert [r.run_id for r in sweep.runs] == [f"trial_{t.number}" for t in complete]
    assert [dict(r.params) for r in sweep.runs] == [t.params for t in complete]
    assert [dict(r.values)["value"] for r in sweep.runs] == [t.value for t in complete]
    assert sweep.runs[0].curve == tuple(sorted(complete[0].intermediate_values.items()))
    assert sweep.log_scale == ("lr",)
    assert len(sweep.limitations) == 1 and "1 of 12 trials" in sweep.limitations[0]


def test_optuna_study_must_be_named_when_several(optuna_db: Path) -> None:
    with pytest.raises(LoadError, match="holds 2 studies"):
        load_sweep(optuna_db)
    with pytest.raises(LoadError, match="no study named 'nope'"):
        load_sweep(optuna_db, study="nope")
    assert load_sweep(optuna_db, study="mlp", direction="maximize").direction == "maximize"


# --- an MLflow experiment -----------------------------------------------------------------


def _log_mlflow_sweep(uri: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    ids = []
    mlflow.set_experiment("other")
    with mlflow.start_run():
        mlflow.log_param("lr", 0.5)
    mlflow.set_experiment("sweep")
    for index, lr in enumerate((0.001, 0.01, 0.1)):
        with mlflow.start_run() as run:
            mlflow.log_params({"lr": lr, "layers": index + 1, "use_bn": index % 2 == 0})
            for step in range(5):
                mlflow.log_metric("val_loss", 1.0 / (step + 1) + lr, step=step)
        ids.append(run.info.run_id)
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    return ids


@pytest.mark.slow
@pytest.mark.parametrize("store", ["file", "sqlite"])
def test_mlflow_experiment_runs_and_params(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    where = tmp_path / ("mlruns" if store == "file" else "mlflow.db")
    uri = where.as_uri() if store == "file" else f"sqlite:///{where}"
    ids = _log_mlflow_sweep(uri, monkeypatch)
    before = _fingerprint(where)
    sweep = load_sweep(f"mlflow:{uri}#sweep")
    assert _fingerprint(where) == before
    assert sweep.kind == "mlflow" and sorted(r.run_id for r in sweep.runs) == sorted(ids)
    params = {r.run_id: dict(r.params) for r in sweep.runs}
    assert params[ids[1]] == {"lr": 0.01, "layers": 2, "use_bn": False}
    assert all(r.log == f"runs:/{r.run_id}" and r.tracking_uri for r in sweep.runs)
    with pytest.raises(LoadError, match="holds 2 experiments"):
        load_sweep(where)
    assert len(load_sweep(where, experiment="sweep").runs) == 3


# --- tables -----------------------------------------------------------------------------------

WANDB_HEADER = "Name,State,Notes,User,Tags,Created,Runtime,Sweep,lr,batch_size,optimizer,"
WANDB_CSV = (
    WANDB_HEADER
    + """train/loss,val_loss,_step
run-a,finished,-,me,,2024-01-01T00:00:00,120,abc,0.001,32,adam,0.40,0.50,999
run-b,finished,-,me,,2024-01-01T00:10:00,118,abc,0.01,64,sgd,0.30,0.35,999
run-c,crashed,-,me,,2024-01-01T00:20:00,20,abc,0.1,32,adam,,,120
run-d,finished,-,me,,2024-01-01T00:30:00,121,abc,0.03,128,sgd,0.35,0.41,999
"""
)


def test_wandb_export_separates_config_from_summary(tmp_path: Path) -> None:
    path = tmp_path / "wandb_export.csv"
    path.write_text(WANDB_CSV)
    sweep = load_sweep(path)
    assert sweep.kind == "wandb_export" and not sweep.per_run_logs
    assert sweep.objective == "val_loss" and sweep.direction == "minimize"
    assert [r.run_id for r in sweep.runs] == ["run-a", "run-b", "run-d"]
    assert dict(sweep.runs[1].params) == {"lr": 0.01, "batch_size": 64, "optimizer": "sgd"}
    assert dict(sweep.runs[1].values) == {"train/loss": 0.30, "val_loss": 0.35}
    assert "run-c" in sweep.limitations[0]


def test_plain_table_with_mixed_types_and_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text(
        "run_id,lr,layers,use_bn,act,val_acc\n"
        "r1,0.1,2,True,relu,0.81\nr2,,3,False,gelu,0.86\nr3,0.001,2,True,,0.74\n"
    )
    sweep = load_sweep(path, objective="val_acc")
    assert sweep.kind == "table" and sweep.direction == "maximize"
    params = [dict(r.params) for r in sweep.runs]
    assert params[1] == {"lr": None, "layers": 3, "use_bn": False, "act": "gelu"}
    assert params[2]["act"] is None and params[0]["use_bn"] is True
    with pytest.raises(LoadError, match="no column 'val_loss'.*Columns: run_id, lr"):
        load_sweep(path, objective="val_loss")


def test_table_without_objective_or_parameters_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("lr,width\n0.1,3\n")
    with pytest.raises(LoadError, match="cannot tell the objective"):
        load_sweep(path)
    path.write_text("val_loss,train_loss\n0.1,0.2\n")
    with pytest.raises(LoadError, match="no parameter column"):
        load_sweep(path)
