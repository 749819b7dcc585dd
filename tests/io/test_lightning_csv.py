"""Tests of the Lightning CSVLogger loader, on logs written by Lightning itself."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LOADERS, load_run

SPEC = LOADERS["lightning_csv"]


def _series(run, metric):
    rows = run.records[run.records["metric"] == metric]
    return rows["step"].to_numpy(), rows["value"].to_numpy(dtype=float)


def _csv_logger_version(save_dir: Path, rows: list[dict[str, float]]) -> Path:
    """Write one version with Lightning's own CSVLogger (as the Trainer calls it)."""
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(save_dir, name="lightning_logs")
    for step, metrics in enumerate(rows):
        logger.log_metrics(metrics, step=step)
    logger.save()
    return Path(logger.log_dir)


# --- a real training -----------------------------------------------------------------------


@pytest.mark.slow
def test_reads_what_the_module_logged(tiny_lightning_run):
    run = load_run(tiny_lightning_run.csv_dir)
    logged = tiny_lightning_run.logged
    assert run.format == "lightning_csv"
    assert run.step_unit == "step"
    assert set(run.metric_names) == {
        "train_loss",
        "val_loss",
        "val_acc",
        "grad_2.0_norm_total",
        "lr-SGD/pg1",
        "lr-SGD/pg2",
    }
    for name in ("train_loss", "grad_2.0_norm_total"):
        steps, values = _series(run, name)
        np.testing.assert_array_equal(steps, [s for s, _ in logged[name]])
        np.testing.assert_array_equal(values, [v for _, v in logged[name]])
    for name in ("val_loss", "val_acc"):
        steps, values = _series(run, name)
        # Lightning writes validation results at the step of the last training batch.
        np.testing.assert_array_equal(steps, [s - 1 for s, _ in logged[name]])
        np.testing.assert_array_equal(values, [v for _, v in logged[name]])
    steps, lr = _series(run, "lr-SGD/pg1")
    np.testing.assert_allclose(lr, 0.1 * 0.5 ** (steps // 10))
    _, lr2 = _series(run, "lr-SGD/pg2")
    np.testing.assert_allclose(lr2, lr / 2)
    assert set(run.records["epoch"].dropna()) == {0.0}


@pytest.mark.slow
def test_keeps_hparams_hints_files_and_line_numbers(tiny_lightning_run):
    run = load_run(tiny_lightning_run.csv_dir)
    assert dict(run.hparams) == tiny_lightning_run.hparams == {"hidden": 16, "lr": 0.1}
    assert run.role_hints == {
        "lr-SGD/pg1": "learning_rate",
        "lr-SGD/pg2": "learning_rate",
        "grad_2.0_norm_total": "grad_norm",
    }
    assert [Path(f).name for f in run.files] == ["metrics.csv", "hparams.yaml"]
    lines = (tiny_lightning_run.csv_dir / "metrics.csv").read_text().splitlines()
    for record in run.records.sample(20, random_state=0).itertuples():
        assert repr(record.value) in lines[record.line - 1].split(",")
    assert run.records["line"].is_monotonic_increasing
    assert run.records["wall_time"].isna().all()
    assert run.notes == ()


@pytest.mark.slow
def test_file_version_folder_and_parent_give_the_same_records(tiny_lightning_run):
    version = tiny_lightning_run.csv_dir
    by_file = load_run(version / "metrics.csv")
    by_parent = load_run(version.parent)
    assert by_file.records.equals(load_run(version).records)
    assert by_file.records.equals(by_parent.records)
    assert [n.code for n in by_parent.notes] == ["version_picked"]
    assert "version_0" in by_parent.notes[0].message


# --- folders of versions ---------------------------------------------------------------


@pytest.mark.slow
def test_picks_the_latest_version_and_names_the_others(tmp_path):
    pytest.importorskip("lightning")
    _csv_logger_version(tmp_path, [{"train_loss": 1.0, "epoch": 0}])
    latest = _csv_logger_version(tmp_path, [{"train_loss": 2.0, "epoch": 0}] * 3)
    assert latest.name == "version_1"
    for source in (tmp_path / "lightning_logs", tmp_path):
        run = load_run(source)
        assert run.format == "lightning_csv"
        assert run.records["value"].tolist() == [2.0, 2.0, 2.0]
        (note,) = run.notes
        assert note.level == "info"
        assert "'version_1'" in note.message
        assert "version_0" in note.message


def test_a_folder_without_metrics_is_an_error(tmp_path):
    (tmp_path / "version_0").mkdir()
    with pytest.raises(LoadError, match="no Lightning metrics.csv"):
        SPEC.load(tmp_path, None)


# --- damaged files ---------------------------------------------------------------------


def _copy(tiny_lightning_run, tmp_path: Path) -> Path:
    target = tmp_path / "metrics.csv"
    shutil.copy(tiny_lightning_run.csv_dir / "metrics.csv", target)
    return target


@pytest.mark.slow
def test_truncated_last_line_is_skipped_with_a_note(tiny_lightning_run, tmp_path):
    target = _copy(tiny_lightning_run, tmp_path)
    full = load_run(target)
    text = target.read_bytes()
    n_lines = text.count(b"\n")
    stripped = text.rstrip(b"\r\n")
    last_line = stripped.rsplit(b"\n", 1)[1]
    cut = len(stripped) - len(last_line) + last_line.index(b",") + 1
    target.write_bytes(stripped[:cut])  # a run still writing its last row
    run = load_run(target)
    assert len(run.records) == (full.records["line"] < n_lines).sum()
    (note,) = run.notes
    assert (note.code, note.level, note.lines) == ("truncated_last_line", "repaired", (n_lines,))
    assert f"line {n_lines}" in note.message
    assert run.records["line"].max() == n_lines - 1


def test_partial_number_on_the_last_line_is_skipped(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("epoch,step,train_loss\r\n0,0,1.5\r\n0,1,2.5e")
    run = load_run(target)
    assert run.records["value"].tolist() == [1.5]
    assert [(n.level, n.lines) for n in run.notes] == [("repaired", (3,))]


def test_unterminated_but_complete_last_line_is_kept_with_a_warning(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("epoch,step,train_loss\r\n0,0,1.5\r\n0,1,2.5")
    run = load_run(target)
    assert run.records["value"].tolist() == [1.5, 2.5]
    assert [(n.code, n.level) for n in run.notes] == [("unterminated_last_line", "warning")]


def test_malformed_middle_line_is_skipped_with_a_warning(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("epoch,step,train_loss\n0,0,1.5\n0,1,2.5,9\n\n0,2,nan\n")
    run = load_run(target)
    assert run.records["step"].tolist() == [0.0, 2.0]
    assert run.records["line"].tolist() == [2, 5]
    assert math.isnan(run.records["value"].iloc[1])
    (note,) = run.notes
    assert (note.code, note.level, note.lines) == ("malformed_lines", "warning", (3,))


def test_text_in_a_number_column_is_kept_as_text(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("epoch,step,val_loss,train_loss\n0,0,abc,inf\n0,1,,-inf\n0,2,0.5,\n")
    run = load_run(target)
    keys = zip(run.records["metric"], run.records["step"], strict=True)
    values = dict(zip(keys, run.records["value"], strict=True))
    assert values[("val_loss", 0.0)] == "abc"
    assert values[("val_loss", 2.0)] == 0.5
    assert values[("train_loss", 0.0)] == math.inf
    assert values[("train_loss", 1.0)] == -math.inf
    assert len(run.records) == 4


@pytest.mark.parametrize("content", ["", "\n\n", "epoch,step,train_loss\r\n"])
def test_an_empty_metrics_csv_is_an_error_naming_the_file(tmp_path, content):
    target = tmp_path / "metrics.csv"
    target.write_text(content)
    with pytest.raises(LoadError, match=r"metrics\.csv' is empty"):
        load_run(target)


def test_a_csv_without_step_column_is_refused(tmp_path):
    target = tmp_path / "log.csv"
    target.write_text("epoch,loss\n0,1.0\n")
    with pytest.raises(LoadError, match="no 'step' column"):
        SPEC.load(target, None)


# --- hparams.yaml ----------------------------------------------------------------------


@pytest.mark.slow
def test_nested_hparams_are_flattened(tiny_lightning_run, tmp_path):
    _copy(tiny_lightning_run, tmp_path)
    (tmp_path / "hparams.yaml").write_text(
        yaml.safe_dump({"model": {"width": 8, "acts": ["relu", "gelu"]}, "lr": 0.01})
    )
    run = load_run(tmp_path)
    assert dict(run.hparams) == {"model.width": 8, "model.acts": '["relu", "gelu"]', "lr": 0.01}


class _Loss:
    def __init__(self) -> None:
        self.reduction = "mean"


@pytest.mark.slow
def test_python_object_tags_in_hparams_are_skipped_with_a_warning(tiny_lightning_run, tmp_path):
    _copy(tiny_lightning_run, tmp_path)
    (tmp_path / "hparams.yaml").write_text(yaml.dump({"epochs": 3, "loss": _Loss()}))
    assert "!!python/object" in (tmp_path / "hparams.yaml").read_text()
    run = load_run(tmp_path)
    assert dict(run.hparams) == {}
    (note,) = run.notes
    assert (note.code, note.level) == ("hparams_unreadable", "warning")
    assert "hparams.yaml" in note.message
    assert len(run.records) > 0


# --- sniffing --------------------------------------------------------------------------


@pytest.mark.slow
def test_sniff_accepts_lightning_files_and_folders(tiny_lightning_run):
    version = tiny_lightning_run.csv_dir
    assert SPEC.sniff(version / "metrics.csv")
    assert SPEC.sniff(version)
    assert SPEC.sniff(version.parent)
    assert not SPEC.sniff(version / "hparams.yaml")


def test_sniff_refuses_other_files(tmp_path):
    keras = tmp_path / "history.csv"
    keras.write_text("epoch,loss,val_loss\n0,1.0,1.1\n")
    export = tmp_path / "metrics.csv"
    export.write_text("step,train/loss,timestamp\n1,2.0,17.0\n")  # a W&B-style export
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"\x00\x01\x02step,epoch")
    for path in (keras, export, binary, tmp_path / "missing.csv", tmp_path):
        assert not SPEC.sniff(path)


# --- the public corpus -----------------------------------------------------------------


def test_every_public_lightning_run_loads(public_runs):
    folders = sorted(public_runs.glob("pl_*"))
    assert len(folders) == 14
    for folder in folders:
        run = load_run(folder)
        assert run.format == "lightning_csv", folder.name
        assert len(run.records) > 0, folder.name
        assert run.records["step"].notna().all(), folder.name
    yolo = load_run(public_runs / "pl_yolov3_lr0p09")
    assert [n.code for n in yolo.notes] == ["hparams_unreadable"]
    assert yolo.records["value"].map(lambda v: isinstance(v, float) and math.isnan(v)).any()
    hydro = load_run(public_runs / "pl_hydro_lstm_v107")
    assert hydro.hparams["hidden_size"] == 179
    assert hydro.role_hints == {"lr-Adam": "learning_rate"}
