"""MLflow loader: runs written by the real mlflow into a file store and a SQLite store."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.mlflow import SPEC, _convert_param, load_uri

PARAMS = {"lr": 0.001, "n_layers": 3, "use_bn": True, "optimizer": "adam", "warmup": None}
TRAIN_LOSS = [2.5, 1.75, float("nan"), float("inf"), 0.5]


@dataclass(frozen=True)
class Store:
    uri: str
    run_id: str
    other_run_id: str | None
    started: float
    ended: float


def _offline_env(mp: pytest.MonkeyPatch) -> None:
    mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mp.setenv("DO_NOT_TRACK", "true")
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)


def _log_run(uri: str) -> str:
    import mlflow

    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        with mlflow.start_run() as run:
            mlflow.log_params(PARAMS)
            for step, value in enumerate(TRAIN_LOSS):
                mlflow.log_metric("train/loss", value, step=step)
            mlflow.log_metric("val_loss", 1.5, step=2)
            mlflow.log_metric("val_loss", 1.25, step=4)
    assert client.get_run(run.info.run_id).info.status == "FINISHED"
    return str(run.info.run_id)


def _make_store(root: Path, uri: str, *, n_runs: int) -> Store:
    pytest.importorskip("mlflow")
    with pytest.MonkeyPatch.context() as mp:
        _offline_env(mp)
        mp.chdir(root)
        started = time.time()
        run_ids = [_log_run(uri) for _ in range(n_runs)]
        ended = time.time()
    return Store(uri, run_ids[0], run_ids[1] if n_runs > 1 else None, started, ended)


@pytest.fixture(scope="module")
def file_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("file_store")
    return _make_store(root, (root / "mlruns").as_uri(), n_runs=1)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("sqlite_store")
    return _make_store(root, f"sqlite:///{root / 'mlflow.db'}", n_runs=1)


@pytest.fixture(scope="module")
def two_run_stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Store]:
    root = tmp_path_factory.mktemp("two_runs")
    files = _make_store(root, (root / "mlruns").as_uri(), n_runs=2)
    db = _make_store(root, f"sqlite:///{root / 'mlflow.db'}", n_runs=2)
    return files, db


@pytest.fixture(autouse=True)
def _no_tracking_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    yield


def _root(store: Store) -> Path:
    return Path(store.uri.removeprefix("file://")) if store.uri.startswith("file:") else Path()


def _db(store: Store) -> Path:
    return Path(store.uri.removeprefix("sqlite:///"))


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def _check_run(run: RunLog, store: Store, *, line_numbers: bool) -> None:
    assert run.format == "mlflow"
    assert run.step_unit == "step"
    assert set(run.metric_names) == {"train/loss", "val_loss"}
    loss = run.records[run.records["metric"] == "train/loss"]
    np.testing.assert_array_equal(loss["step"], [0, 1, 2, 3, 4])
    values = loss["value"].to_numpy(dtype=float)
    np.testing.assert_array_equal(values[[0, 1, 4]], [2.5, 1.75, 0.5])
    assert math.isnan(values[2]) and values[3] == math.inf  # divergence evidence is kept
    assert ((loss["wall_time"] >= store.started - 1) & (loss["wall_time"] <= store.ended + 1)).all()
    val = run.records[run.records["metric"] == "val_loss"]
    assert val["step"].tolist() == [2, 4] and val["value"].tolist() == [1.5, 1.25]
    expected_lines = [1, 2, 3, 4, 5] if line_numbers else [0] * 5
    assert loss["line"].tolist() == expected_lines
    assert dict(run.hparams) == PARAMS
    assert type(run.hparams["lr"]) is float and type(run.hparams["n_layers"]) is int
    assert run.hparams["use_bn"] is True


@pytest.mark.slow
def test_run_folder_is_detected_and_read(file_store: Store) -> None:
    run_dir = _root(file_store) / "0" / file_store.run_id
    before = _snapshot(_root(file_store))
    run = load_run(run_dir)
    _check_run(run, file_store, line_numbers=True)
    assert run.source == str(run_dir)
    assert str(run_dir / "metrics" / "train" / "loss") in run.files
    assert _snapshot(_root(file_store)) == before  # no .trash, no default experiment, no edit


@pytest.mark.slow
@pytest.mark.parametrize("where", ["mlruns", "experiment"])
def test_folder_with_one_run_reads_it(file_store: Store, where: str) -> None:
    folder = _root(file_store) if where == "mlruns" else _root(file_store) / "0"
    run = load_run(folder)
    _check_run(run, file_store, line_numbers=True)
    assert any(file_store.run_id in note.message for note in run.notes)


@pytest.mark.slow
def test_runs_uri_with_file_tracking_uri(file_store: Store) -> None:
    uri = f"runs:/{file_store.run_id}"
    run = load_run(uri, options=LoadOptions(tracking_uri=file_store.uri))
    _check_run(run, file_store, line_numbers=True)
    assert run.source == uri


@pytest.mark.slow
def test_sqlite_file_is_detected_and_read_without_changing_it(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(sqlite_store)
    before = _snapshot(db.parent)
    monkeypatch.chdir(tmp_path)  # mlflow must not create ./mlruns or ./mlflow.db either
    run = load_run(db)
    _check_run(run, sqlite_store, line_numbers=False)
    assert run.files == (str(db),)
    assert any(n.code == "mlflow_infinity" and n.level == "repaired" for n in run.notes)
    assert _snapshot(db.parent) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_runs_uri_with_sqlite_tracking_uri(sqlite_store: Store) -> None:
    run = load_uri(f"runs:/{sqlite_store.run_id}", LoadOptions(tracking_uri=sqlite_store.uri))
    _check_run(run, sqlite_store, line_numbers=False)


@pytest.mark.slow
def test_sql_fast_path_matches_mlflow_client(sqlite_store: Store) -> None:
    import mlflow

    run = load_uri(f"runs:/{sqlite_store.run_id}", LoadOptions(tracking_uri=sqlite_store.uri))
    client = mlflow.tracking.MlflowClient(tracking_uri=sqlite_store.uri)
    for key in ("train/loss", "val_loss"):
        history = client.get_metric_history(sqlite_store.run_id, key)
        mine = run.records[run.records["metric"] == key]
        assert mine["step"].tolist() == [m.step for m in history]
        assert mine["wall_time"].tolist() == [m.timestamp / 1000 for m in history]
        theirs = [math.inf if abs(m.value) == sys.float_info.max else m.value for m in history]
        np.testing.assert_array_equal(mine["value"].to_numpy(dtype=float), theirs)


@pytest.mark.slow
def test_several_runs_are_listed(two_run_stores: tuple[Store, Store]) -> None:
    files, db = two_run_stores
    for source in (_root(files), _db(db)):
        store = files if source == _root(files) else db
        with pytest.raises(LoadError, match="holds 2 MLflow runs") as info:
            load_run(source)
        assert store.run_id in str(info.value) and str(store.other_run_id) in str(info.value)
        assert "runs:/<run_id>" in str(info.value)


@pytest.mark.slow
def test_runs_uri_picks_one_of_several(two_run_stores: tuple[Store, Store]) -> None:
    for store in two_run_stores:
        run = load_run(f"runs:/{store.other_run_id}", options=LoadOptions(tracking_uri=store.uri))
        assert run.hparams["n_layers"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_unknown_run_id_is_named(file_store: Store, sqlite_store: Store, kind: str) -> None:
    store = file_store if kind == "file" else sqlite_store
    missing = "0123456789abcdef0123456789abcdef"
    with pytest.raises(LoadError, match=missing) as info:
        load_uri(f"runs:/{missing}", LoadOptions(tracking_uri=store.uri))
    assert store.uri in str(info.value)


def test_runs_uri_needs_a_tracking_uri() -> None:
    with pytest.raises(LoadError, match="needs a tracking URI to find run 'abc'"):
        load_uri("runs:/abc", LoadOptions())


def test_empty_db_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "mlflow.db").write_bytes(b"")
    with pytest.raises(LoadError, match="is empty"):
        SPEC.load(tmp_path / "mlflow.db", LoadOptions())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("-7", -7),
        ("0.001", 0.001),
        ("1e-4", 1e-4),
        ("True", True),
        ("False", False),
        ("None", None),
        ("adam", "adam"),
        ("[64, 32]", "[64, 32]"),
        ("nan", "nan"),
    ],
)
def test_params_become_typed(text: str, expected: object) -> None:
    converted = _convert_param(text)
    assert converted == expected and type(converted) is type(expected)


def test_sniff_recognises_stores_without_importing_mlflow(tmp_path: Path) -> None:
    run_dir = tmp_path / "mlruns" / "0" / "abc"
    (run_dir / "metrics").mkdir(parents=True)
    (run_dir / "meta.yaml").write_text("run_id: abc\n")
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("experiment_id: '0'\n")
    store = sqlite3.connect(tmp_path / "mlflow.db")
    store.executescript(
        "CREATE TABLE experiments(x); CREATE TABLE runs(x); CREATE TABLE metrics(x);"
    )
    store.close()
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE metrics(x)")
    other.close()
    (tmp_path / "fake.db").write_text("not a database")
    (tmp_path / "log.csv").write_text("step,loss\n0,1.0\n")
    script = (
        "import sys; from pathlib import Path; from dynamics_stats.io.mlflow import _sniff; "
        f"root = Path({str(tmp_path)!r}); "
        "names = ['mlruns', 'mlruns/0', 'mlruns/0/abc', 'mlflow.db', 'other.db', 'fake.db', "
        "'log.csv', 'missing']; "
        "print([_sniff(root / n) for n in names], 'mlflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[True, True, True, True, False, False, False, False] False"
