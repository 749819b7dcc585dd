"""Write calibration/REPORT.md, the reliability diagrams and the public-runs table."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dynamics_stats.agent.analyze import analyze  # noqa: E402

HERE = Path(__file__).resolve().parent
_ECE_NOTE = (
    "The bootstrap interval of the ECE is a percentile interval of a quantity that is biased "
    "upwards in small resamples, so it can sit above the point estimate; read its upper end "
    "as a conservative bound."
)
PUBLIC_RUNS = HERE.parent.parent / "shared" / "data" / "public_runs"


def _diagram(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    fig, axes = plt.subplots(2, 4, figsize=(14, 7))
    for ax, (kind, (mean_p, freq)) in zip(axes.flat, curves.items(), strict=False):
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
        ax.plot(mean_p, freq, marker="o")
        ax.set(title=kind, xlim=(0, 1), ylim=(0, 1), xlabel="predicted", ylabel="observed")
    axes.flat[-1].axis("off")
    fig.suptitle("Held-out reliability on the synthetic corpus (equal-mass bins)")
    fig.tight_layout()
    path = HERE / "figures" / "reliability_synthetic.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.relative_to(HERE).as_posix()


def _kind_table(fits: dict[str, dict[str, object]]) -> list[str]:
    head = (
        "| kind | map | n (pos) | raw AUC | AUC | precision | recall | F1 | Brier "
        "| base-rate Brier | ECE [95% CI] | onset error |"
    )
    lines = [head, "|" + "---|" * 12]
    for kind, fit in fits.items():
        s = fit["stats"]  # type: ignore[index]
        lines.append(
            f"| {kind} | {fit['method']} | {s['n']:.0f} ({s['positives']:.0f}) "
            f"| {s['raw_auc']:.3f} | {s['auc']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} "
            f"| {s['f1']:.3f} "
            f"| {s['brier']:.3f} | {s['brier_base_rate']:.3f} "
            f"| {s['ece']:.3f} [{s['ece_low']:.3f}, {s['ece_high']:.3f}] | {s['onset_error']:.3f} |"
        )
    f1 = np.mean([f["stats"]["f1"] for f in fits.values()])  # type: ignore[index]
    lines += ["", f"Macro-F1 over the seven kinds: **{f1:.3f}**.", "", _ECE_NOTE]
    return lines


def _public_table() -> list[str]:
    if not PUBLIC_RUNS.is_dir():
        return ["(public runs not found beside the repository)"]
    with open(PUBLIC_RUNS / "index.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = ["| run | status | top findings (probability) |", "|---|---|---|"]
    for row in rows:
        result = analyze(PUBLIC_RUNS / row["run_id"])
        top = ", ".join(
            f"{f.kind} ({f.probability:.2f})"
            for f in result.findings[:3]
            if f.probability is not None
        )
        lines.append(f"| {row['run_id']} | {result.status} | {top or '-'} |")
    return lines


def write_report(fits, curves, *, n_runs: int, seed: int, digest: str) -> None:  # type: ignore[no-untyped-def]
    """Write REPORT.md from the fits (held-out numbers) and the public runs."""
    figure = _diagram(curves)
    text = [
        "# Calibration report",
        "",
        "Regenerate with `python calibration/fit.py` (one command: corpus, fit, map, report).",
        "",
        "## What a probability means here",
        "",
        "For each of the seven problem kinds, a detector's raw score is mapped to the frequency "
        "with which runs scoring like that *had the problem* in a labelled corpus. All numbers "
        "below are **held out**: 5-fold cross-validation grouped by run (each run is its own "
        "generating configuration), the map chosen per kind between Platt scaling and isotonic "
        "regression by held-out log-loss. ECE is the equal-mass expected calibration error "
        "(10 bins) with a 95% bootstrap interval; precision, recall and F1 are at probability "
        "0.5; the onset error is the median |predicted - true onset| / run length over detected "
        "positives. Kinds that a run cannot show (no validation metric, no gradient norm) are "
        "left out of that kind's rows.",
        "",
        f"## Synthetic corpus: {n_runs} runs (seed {seed}, corpus hash `{digest}`)",
        "",
        *_kind_table(fits),
        "",
        f"![reliability]({figure})",
        "",
        "## Real runs",
        "",
        "**Not done yet.** The labelled corpus of real Lightning runs (each problem induced by a "
        "real mechanism, labels checked by numeric rules) is not built, so no real-run numbers "
        "exist: the shipped map is fitted on synthetic runs only, and how well it transfers to "
        "real logs is unmeasured. The comparison with losslint and trainspotter needs those "
        "runs too.",
        "",
        "## What the analyzer says on the public runs",
        "",
        "Real logs from public projects, without labels (a sanity check, not an evaluation).",
        "",
        *_public_table(),
        "",
    ]
    (HERE / "REPORT.md").write_text("\n".join(text))
