"""``dynamics-stats sweep``: text and JSON reports of a sweep, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.cli import main

REPO = Path(__file__).resolve().parents[2]
DIGITS_SWEEP = REPO / "dynamics_stats" / "examples" / "digits_sweep"
SCHEMA = REPO / "dynamics_stats" / "report" / "schema" / "sweep_result.v1.json"


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """40 runs: val_loss grows with log10(lr) and with dropout; tag is inert."""
    rng = np.random.default_rng(11)
    lr = 10 ** rng.uniform(-4, -1, 40)
    dropout = rng.uniform(0, 0.5, 40)
    frame = pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(40)],
            "lr": lr,
            "dropout": dropout,
            "optimizer": rng.choice(["adam", "sgd"], 40),
            "tag": rng.integers(0, 1000, 40),
            "val_loss": 1.0 + 0.2 * np.log10(lr) + 1.2 * dropout + rng.normal(0, 0.02, 40),
        }
    )
    path = tmp_path / "sweep.csv"
    frame.to_csv(path, index=False)
    return path


def _validate(document: dict[str, object]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))


def test_json_report_of_a_table_follows_the_schema(table: Path, capsys) -> None:
    assert main(["sweep", str(table), "--format", "json", "--no-progress"]) == 0
    document = json.loads(capsys.readouterr().out)
    _validate(document)
    assert document["objective"] == {"name": "val_loss", "direction": "minimize"}
    assert document["n_runs"] == 40
    by_name = {p["name"]: p for p in document["parameters"]}
    assert by_name["lr"]["significant"] and by_name["lr"]["direction"] == "increases"
    assert by_name["dropout"]["significant"]
    assert not by_name["tag"]["significant"]


def test_text_report_is_a_table_within_100_columns(table: Path, capsys) -> None:
    assert main(["sweep", str(table), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("#  parameter"))
    ranked = [line.split()[1] for line in lines[header + 2 :] if line[:3].strip().isdigit()]
    assert sorted(ranked) == ["dropout", "lr", "optimizer", "tag"]
    assert "no training curves" in out


def test_report_written_to_a_file(table: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.json"
    assert main(["sweep", str(table), "--format", "json", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    _validate(json.loads(out.read_text()))


@pytest.mark.slow
def test_real_digits_runs_in_text_and_json(tmp_path: Path, capsys) -> None:
    for run in sorted(p for p in DIGITS_SWEEP.iterdir() if p.is_dir())[:12]:
        shutil.copytree(run, tmp_path / run.name)
    assert main(["sweep", str(tmp_path), "--jobs", "2", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    _validate(document)
    assert document["objective"]["name"] == "best_val_loss" and document["n_runs"] == 12
    assert {p["name"] for p in document["parameters"]} >= {"lr", "hidden", "optimizer", "tag"}
    assert all(len(run["problems"]) == 7 for run in document["runs"])
    assert main(["sweep", str(tmp_path), "--jobs", "1", "--objective", "val_acc"]) == 0
    out = capsys.readouterr().out
    assert "objective best_val_acc (maximize)" in out


def test_bad_input_exits_2_without_traceback(tmp_path: Path, table: Path, capsys) -> None:
    assert main(["sweep", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    assert main(["sweep", str(table), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert main(["sweep", str(table), "--objective", "val_acc"]) == 2
    assert "no column 'val_acc'" in capsys.readouterr().err


def test_html_is_offered_only_when_the_renderer_exists(table: Path, tmp_path: Path) -> None:
    from dynamics_stats.cli.sweep import _has_html

    out = tmp_path / "report.html"
    if not _has_html():
        with pytest.raises(SystemExit) as exit_info:
            main(["sweep", str(table), "--format", "html", "--out", str(out)])
        assert exit_info.value.code == 2
        return
    assert main(["sweep", str(table), "--format", "html", "--out", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "val_loss" in page and "dropout" in page
