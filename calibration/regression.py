"""Record the probabilities of a few fixed real runs, the regression guard of the shipped map.

``tests/calibration/test_regression.py`` checks that the analysis still gives these numbers
(within 0.02). ``fit.py`` rewrites the file whenever it refits the map.
"""

from __future__ import annotations

import json
from pathlib import Path

from dynamics_stats import analyze
from dynamics_stats.examples import example_path

HERE = Path(__file__).resolve().parent
PUBLIC_RUNS = HERE.parent.parent / "shared" / "data" / "public_runs"
EXPECTED = HERE.parent / "tests" / "data" / "regression_probabilities.json"
PUBLIC_IDS = ("hf_vit_skin_cancer", "pl_yolov3_lr0p09", "llmc_gpt2_run2_stdout", "hf_lora_mcfed")


def write_regression() -> None:
    """Analyse the fixed runs and write their probabilities."""
    runs = {"example:digits_overfit": example_path()}
    runs.update({f"public:{rid}": PUBLIC_RUNS / rid for rid in PUBLIC_IDS})
    out = {}
    for key, path in runs.items():
        result = analyze(path)
        out[key] = {"calibration": result.calibration.name, "issues": dict(result.issues)}
    EXPECTED.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    write_regression()
