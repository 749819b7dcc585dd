"""The scoring-code hash of the corpus caches leaves out only modules no score depends on."""

import subprocess
import sys
from pathlib import Path

CALIBRATION = Path(__file__).parents[2] / "calibration"
sys.path.insert(0, str(CALIBRATION))

import corpus  # noqa: E402

_ANALYSE_AND_LIST_MODULES = """
import sys
import numpy as np
import pandas as pd
from dynamics_stats import analyze, load_run
steps = np.arange(400)
frame = pd.DataFrame({
    "step": steps,
    "train_loss": 2.0 / (1 + steps / 50),
    "val_loss": 2.0 / (1 + steps / 50) + (steps / 400) ** 2,
    "grad_norm": 1.0 + 0.1 * np.sin(steps),
    "lr": 0.01,
})
analyze(load_run(frame))
print("\\n".join(sorted(sys.modules)))
"""


def test_the_analysis_never_imports_a_module_left_out_of_the_hash():
    out = subprocess.run(
        [sys.executable, "-c", _ANALYSE_AND_LIST_MODULES],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "dynamics_stats.detectors.overfitting" in out  # the analysis did run
    for path in corpus.NOT_SCORING:
        module = "dynamics_stats." + path.removesuffix(".py").replace("/", ".")
        assert module not in out


def test_the_hash_follows_a_scoring_module_but_not_a_left_out_one(tmp_path, monkeypatch):
    package = tmp_path / "dynamics_stats"
    for relative in ("curves/online.py", "curves/smoothing.py", "detectors/overfitting.py"):
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text("x = 1\n")
    monkeypatch.setattr(corpus, "PACKAGE", package)
    before = corpus.corpus_hash(10, 0)
    (package / "curves/online.py").write_text("x = 2\n")
    assert corpus.corpus_hash(10, 0) == before
    (package / "curves/smoothing.py").write_text("x = 2\n")
    assert corpus.corpus_hash(10, 0) != before
