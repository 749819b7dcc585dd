"""Cells of ``03_calibration.ipynb``: reliability and what a probability means here."""

CELLS = [
    (
        "md",
        """
# 03 - Calibration: what a probability means here

Detectors produce raw scores; a *calibration map* turns each score into the frequency with
which runs scoring like that had the problem in a labelled corpus. This notebook reads what
the repository ships (`calibration/REPORT.md`, the scored corpus in `calibration/data/*.csv`,
and the map inside the package) and draws reliability diagrams. Nothing here is hard-coded:
when the calibration is regenerated (`python calibration/fit.py`) the notebook follows.
""",
    ),
    (
        "code",
        """
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import dynamics_stats
from dynamics_stats.calibration import load_map
from dynamics_stats.core.kinds import CORE_KINDS

CALIBRATION = Path(dynamics_stats.__file__).resolve().parents[1] / "calibration"
if not (CALIBRATION / "REPORT.md").is_file():
    raise FileNotFoundError(
        f"{CALIBRATION} has no REPORT.md: run this notebook from a clone of the repository."
    )
cmap = load_map("shipped")
print(f"shipped map: {cmap.info.name} {cmap.info.version}, calibrated={cmap.info.calibrated}")
print(cmap.info.description)
""",
    ),
    (
        "md",
        """
## The held-out numbers of the report

These come from cross-validation (each run's probability from a map fitted without it), so
they are the honest measure. Below, the reliability diagrams are recomputed from the scored
corpus with the shipped map, which was fitted on that same corpus: they are *in-sample* and
look at least as good as the held-out ones.
""",
    ),
    (
        "code",
        """
report = (CALIBRATION / "REPORT.md").read_text(encoding="utf-8")
start = report.find("## What a probability means here")
end = report.find("## Real runs")
display(Markdown(report[start if start >= 0 else 0 : end if end > start else None]))
""",
    ),
    (
        "code",
        """
data = CALIBRATION / "data"  # the scored real runs, else the synthetic ones
tables = sorted(data.glob("real_scores_*.csv")) or sorted(data.glob("synthetic_scores_*.csv"))
if not tables:
    raise FileNotFoundError(f"no scored corpus in {CALIBRATION / 'data'}: run calibration/fit.py")
scores = pd.read_csv(tables[-1])
print(f"{tables[-1].name}: {len(scores)} runs; map fitted on corpus {cmap.corpus_hash or '?'}")
if cmap.corpus_hash and cmap.corpus_hash not in tables[-1].name:
    print("note: this table is not the corpus the shipped map was fitted on")
""",
    ),
    (
        "code",
        """
score_columns = {kind: f"score_{kind}" for kind in CORE_KINDS if f"score_{kind}" in scores}


def probabilities(kind):
    \"\"\"Return the shipped map's probability and the true label of each run, for one kind.\"\"\"
    rows = scores[[score_columns[kind], f"label_{kind}"]].dropna()
    all_scores = scores.loc[rows.index, list(score_columns.values())]
    probs = []
    for index, score in rows[score_columns[kind]].items():
        others = {k: float(all_scores.at[index, c]) for k, c in score_columns.items()}
        probs.append(cmap.probability(kind, float(score), all_scores=others))
    return np.array([np.nan if p is None else p for p in probs]), rows[f"label_{kind}"].to_numpy()


def reliability(prob, label, n_bins=10):
    \"\"\"Return equal-mass bins: mean predicted, observed frequency, Wilson interval, count.\"\"\"
    keep = np.isfinite(prob)
    prob, label = prob[keep], label[keep]
    order = np.argsort(prob, kind="stable")
    rows = []
    for chunk in np.array_split(order, n_bins):
        if len(chunk) == 0:
            continue
        n, k = len(chunk), label[chunk].sum()
        centre = (k + 1.92) / (n + 3.84)  # Wilson 95% interval of the observed frequency
        half = 1.96 * np.sqrt(k * (n - k) / n + 0.96) / (n + 3.84)
        rows.append((prob[chunk].mean(), k / n, centre - half, centre + half, n))
    return pd.DataFrame(rows, columns=["predicted", "observed", "low", "high", "n"])


curves = {kind: reliability(*probabilities(kind)) for kind in score_columns}
summary = pd.DataFrame(
    {
        kind: {
            "runs": int(table["n"].sum()),
            "ECE (equal-mass, in-sample)": float(
                np.average((table["predicted"] - table["observed"]).abs(), weights=table["n"])
            ),
        }
        for kind, table in curves.items()
    }
).T
summary
""",
    ),
    (
        "code",
        """
fig, axes = plt.subplots(2, 4, figsize=(12, 6), sharex=True, sharey=True)
for ax, (kind, table) in zip(axes.flat, curves.items(), strict=False):
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.errorbar(
        table["predicted"],
        table["observed"],
        yerr=[table["observed"] - table["low"], table["high"] - table["observed"]],
        fmt="o-",
        ms=4,
        capsize=2,
    )
    ax.set_title(kind, fontsize=10)
for ax in axes.flat[len(curves) :]:
    ax.set_visible(False)
fig.supxlabel("predicted probability (mean of an equal-mass bin)")
fig.supylabel("observed frequency of the problem")
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
## Reading one probability

Take the kind with the most positives and look at the runs whose probability is about 0.8:
the fraction of them that really had the problem is what "0.8" promises. It is a frequency
on the calibration corpus (synthetic runs for now, see the report), not a certainty about
your run.
""",
    ),
    (
        "code",
        """
kind = max(score_columns, key=lambda k: scores[f"label_{k}"].sum())
prob, label = probabilities(kind)
near = np.abs(prob - 0.8) <= 0.1
if near.any():
    print(
        f"{kind}: {near.sum()} runs with probability in [0.7, 0.9]; "
        f"{label[near].mean():.0%} of them had the problem "
        f"(mean probability {prob[near].mean():.2f})."
    )
else:
    print(f"{kind}: no run has a probability in [0.7, 0.9] under this map.")
""",
    ),
    (
        "code",
        """
figure = CALIBRATION / "figures" / "reliability_synthetic.png"
if figure.is_file():
    from IPython.display import Image

    display(Image(filename=str(figure)))
""",
    ),
]
