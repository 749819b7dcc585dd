"""Tests of the TensorBoard loader, on event files written by the real writers."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LOADERS, load_run

pytest.importorskip("tensorboard")

SPEC = LOADERS["tensorboard"]


def _series(run, metric):
    rows = run.records[run.records["metric"] == metric]
    return rows["step"].to_numpy(), rows["value"].to_numpy(dtype=float)


def _event_file(folder: Path) -> Path:
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def _torch_writer(folder: Path, scalars: dict[str, list[float]]) -> None:
    """Write ``simple_value`` scalars with torch.utils.tensorboard (as Lightning and HF do)."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for tag, values in scalars.items():
        for step, value in enumerate(values):
            writer.add_scalar(tag, value, step)
    writer.close()


# --- a real training -----------------------------------------------------------------------


@pytest.mark.slow
def test_reads_what_the_module_logged(tiny_lightning_run):
    run = load_run(tiny_lightning_run.tensorboard_dir)
    logged = tiny_lightning_run.logged
    assert run.format == "tensorboard"
    assert run.step_unit == "step"
    assert set(run.metric_names) == {
        "hp_metric",
        "train_loss",
        "val_loss",
        "val_acc",
        "grad_2.0_norm_total",
        "lr-SGD/pg1",
        "lr-SGD/pg2",
    }
    for name in ("train_loss", "grad_2.0_norm_total", "val_loss", "val_acc"):
        steps, values = _series(run, name)
        # Lightning writes validation results at the step of the last training batch.
        shift = 1 if name.startswith("val") else 0
        np.testing.assert_array_equal(steps, [s - shift for s, _ in logged[name]])
        # simple_value is a float32
        np.testing.assert_allclose(values, [v for _, v in logged[name]], rtol=1e-6)
    steps, lr = _series(run, "lr-SGD/pg1")
    np.testing.assert_allclose(lr, 0.1 * 0.5 ** (steps // 10), rtol=1e-6)
    epochs = run.records.loc[run.records["metric"] != "hp_metric", "epoch"]
    assert set(epochs) == {0.0}  # Lightning's "epoch" series became the epoch axis
    wall = run.records["wall_time"].to_numpy()
    assert np.isfinite(wall).all()
    assert (wall > 1.5e9).all()
    assert (run.records["line"] == 0).all()


@pytest.mark.slow
def test_reads_hparams_and_role_hints(tiny_lightning_run):
    run = load_run(tiny_lightning_run.tensorboard_dir)
    assert dict(run.hparams) == {"hidden": 16, "lr": 0.1}
    assert run.role_hints == {
        "hp_metric": "other",
        "lr-SGD/pg1": "learning_rate",
        "lr-SGD/pg2": "learning_rate",
        "grad_2.0_norm_total": "grad_norm",
    }
    assert Path(run.files[-1]).name == "hparams.yaml"


@pytest.mark.slow
def test_file_version_folder_and_parent_give_the_same_records(tiny_lightning_run):
    version = tiny_lightning_run.tensorboard_dir
    by_file = load_run(_event_file(version))
    by_parent = load_run(version.parent)
    assert by_file.records.equals(load_run(version).records)
    assert by_file.records.equals(by_parent.records)
    assert [n.code for n in by_parent.notes] == ["version_picked"]


# --- encodings, folders and versions ---------------------------------------------------


def test_reads_tf2_tensor_scalars(tmp_path):
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path))
    for step, value in enumerate([2.5, 1.25, 0.75]):
        summary = scalar_pb("loss", np.float32(value))
        if step > 0:  # TF2 writers send the metadata with the first value only
            summary.value[0].ClearField("metadata")
        writer.add_event(event_pb2.Event(step=10 * step, wall_time=100.0 + step, summary=summary))
    writer.close()
    run = load_run(tmp_path)
    assert run.format == "tensorboard"
    assert run.records["metric"].tolist() == ["loss"] * 3
    assert run.records["step"].tolist() == [0.0, 10.0, 20.0]
    assert run.records["value"].tolist() == [2.5, 1.25, 0.75]
    assert run.records["wall_time"].tolist() == [100.0, 101.0, 102.0]


@pytest.mark.slow
def test_sub_folders_become_tag_prefixes(tmp_path):
    pytest.importorskip("torch")
    _torch_writer(tmp_path / "train", {"epoch_loss": [3.0, 2.0]})
    _torch_writer(tmp_path / "validation", {"epoch_loss": [3.5, 2.5]})
    run = load_run(tmp_path)
    assert set(run.metric_names) == {"train/epoch_loss", "validation/epoch_loss"}
    assert _series(run, "validation/epoch_loss")[1].tolist() == [3.5, 2.5]
    assert run.step_unit == "epoch"  # Keras' TensorBoard callback names epoch series epoch_*
    (note,) = run.notes
    assert note.code == "subfolder_prefix"
    assert "train/" in note.message


@pytest.mark.slow
def test_picks_the_latest_version_and_reads_plugin_hparams(tmp_path):
    pytest.importorskip("lightning")
    from lightning.pytorch.loggers import TensorBoardLogger

    for version, value in enumerate([1.0, 2.0]):
        logger = TensorBoardLogger(tmp_path, name="lightning_logs")
        logger.log_hyperparams({"lr": 0.5, "optimizer": "sgd", "version": version})
        logger.log_metrics({"train_loss": value}, step=3)
        logger.experiment.close()  # no save(): no hparams.yaml, only the hparams plugin
    run = load_run(tmp_path / "lightning_logs")
    assert _series(run, "train_loss")[1].tolist() == [2.0]
    assert dict(run.hparams) == {"lr": 0.5, "optimizer": "sgd", "version": 1.0}
    (note,) = run.notes
    assert (note.code, note.level) == ("version_picked", "info")
    assert "'version_1'" in note.message
    assert "version_0" in note.message


# --- damaged files ---------------------------------------------------------------------


@pytest.mark.slow
def test_truncated_event_file_keeps_the_complete_records(tiny_lightning_run, tmp_path):
    source = _event_file(tiny_lightning_run.tensorboard_dir)
    target = tmp_path / source.name
    data = source.read_bytes()
    target.write_bytes(data[:-7])  # the writer was in the middle of its last record
    full = load_run(source)
    run = load_run(target)
    assert 0 <= len(full.records) - len(run.records) <= 2  # the cut record may hold no scalar
    assert run.records.equals(full.records.iloc[: len(run.records)])
    (note,) = run.notes
    assert (note.code, note.level) == ("truncated_event_file", "repaired")
    assert target.name in note.message


def test_an_empty_event_file_is_an_error_naming_the_file(tmp_path):
    target = tmp_path / "events.out.tfevents.123.host.1.0"
    target.write_bytes(b"")
    with pytest.raises(LoadError, match=r"tfevents\.123\.host\.1\.0' is empty"):
        load_run(target)


@pytest.mark.slow
@pytest.mark.slow
def test_an_empty_event_file_beside_a_good_one_is_skipped(tiny_lightning_run, tmp_path):
    source = _event_file(tiny_lightning_run.tensorboard_dir)
    shutil.copy(source, tmp_path / source.name)
    (tmp_path / "events.out.tfevents.9999999999.host.2.0").write_bytes(b"")  # a restart
    run = load_run(tmp_path)
    assert len(run.records) == len(load_run(source).records)
    (note,) = run.notes
    assert (note.code, note.level) == ("event_file_skipped", "warning")
    assert "9999999999.host.2.0' is empty" in note.message


def test_garbage_named_like_an_event_file_is_an_error(tmp_path):
    target = tmp_path / "events.out.tfevents.1.x"
    target.write_bytes(b"not an event file at all, only text" * 3)
    with pytest.raises(LoadError, match="not a readable TensorBoard event file"):
        load_run(target)


@pytest.mark.slow
def test_a_log_without_scalars_is_an_error_naming_what_it_holds(tmp_path):
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    writer.add_histogram("weights", np.arange(10.0), 0)
    writer.close()
    with pytest.raises(LoadError, match=r"no scalar summary .*weights"):
        load_run(tmp_path)


@pytest.mark.slow
def test_missing_tensorboard_names_the_extra(tiny_lightning_run, monkeypatch):
    module = "tensorboard.backend.event_processing.event_file_loader"
    monkeypatch.setitem(sys.modules, module, None)  # as if tensorboard were not installed
    with pytest.raises(LoadError, match=r'pip install "dynamics_stats\[tensorboard\]"'):
        SPEC.load(tiny_lightning_run.tensorboard_dir, None)


# --- sniffing --------------------------------------------------------------------------


@pytest.mark.slow
def test_sniff_finds_event_files_up_to_two_levels_down(tiny_lightning_run, tmp_path):
    event = _event_file(tiny_lightning_run.tensorboard_dir)
    assert SPEC.sniff(event)
    assert SPEC.sniff(event.parent)
    assert SPEC.sniff(event.parent.parent.parent)  # root/tb_logs/version_0/events...
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    shutil.copy(event, deep / event.name)
    assert not SPEC.sniff(tmp_path)
    assert SPEC.sniff(tmp_path / "a")


@pytest.mark.slow
def test_sniff_refuses_other_files(tiny_lightning_run, tmp_path):
    assert not SPEC.sniff(tiny_lightning_run.csv_dir / "metrics.csv")
    assert not SPEC.sniff(tiny_lightning_run.csv_dir)
    assert not SPEC.sniff(tmp_path / "missing.tfevents")
    assert not SPEC.sniff(tmp_path)


# --- the public corpus -----------------------------------------------------------------


def test_every_public_tensorboard_run_loads(public_runs):
    folders = sorted(public_runs.glob("tfe_*"))
    assert len(folders) == 4
    for folder in folders:
        run = load_run(folder)
        assert run.format == "tensorboard", folder.name
        assert len(run.records) > 0, folder.name
    t5 = load_run(public_runs / "tfe_t5_summarization")
    steps, _ = _series(t5, "train/loss")
    assert len(steps) == 430
    assert t5.records["epoch"].max() == pytest.approx(3.0)
    hydro = load_run(public_runs / "tfe_hydro_domain_adapt")
    assert hydro.hparams["group_identifier"] == "gauge_id"
    assert hydro.hparams["learning_rate"] == pytest.approx(2e-5)
