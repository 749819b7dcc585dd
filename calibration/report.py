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


def _diagram(fits: dict[str, dict[str, object]], source: str) -> str:
    fig, axes = plt.subplots(2, 4, figsize=(14, 7))
    for ax, (kind, fit) in zip(axes.flat, fits.items(), strict=False):
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
        curve = fit["curves"].get(source)  # type: ignore[attr-defined]
        if curve is not None:
            ax.plot(*curve, marker="o")
        ax.set(title=kind, xlim=(0, 1), ylim=(0, 1), xlabel="predicted", ylabel="observed")
    axes.flat[-1].axis("off")
    fig.suptitle(f"Held-out reliability on the {source} runs (equal-mass bins)")
    fig.tight_layout()
    path = HERE / "figures" / f"reliability_{source}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.relative_to(HERE).as_posix()


def _row(kind: str, method: str, s: dict[str, float]) -> str:
    if "f1" not in s:
        return f"| {kind} | {method} | {s['n']:.0f} (one class) |" + " - |" * 10
    return (
        f"| {kind} | {method} | {s['n']:.0f} ({s['positives']:.0f}) "
        f"| {s['raw_auc']:.3f} | {s['auc']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} "
        f"| {s['f1']:.3f} | {s['brier']:.3f} | {s['brier_base_rate']:.3f} "
        f"| {s['ece']:.3f} [{s['ece_low']:.3f}, {s['ece_high']:.3f}] | {s['onset_error']:.3f} |"
    )


def _kind_table(fits: dict[str, dict[str, object]], source: str) -> list[str]:
    head = (
        "| kind | map | n (pos) | raw AUC | AUC | precision | recall | F1 | Brier "
        "| base-rate Brier | ECE [95% CI] | onset error |"
    )
    lines = [head, "|" + "---|" * 12]
    f1s = []
    for kind, fit in fits.items():
        s = fit["stats"][source]  # type: ignore[index]
        lines.append(_row(kind, str(fit["method"]), s))
        f1s.append(s.get("f1", 0.0))
    excluded = ", ".join(
        f"{k}: {f['n_unassessed'][source]}"  # type: ignore[index]
        for k, f in fits.items()
        if f["n_unassessed"][source]  # type: ignore[index]
    )
    lines += ["", f"Macro-F1 over the seven kinds: **{np.mean(f1s):.3f}**."]
    if excluded:
        lines += ["", f"Runs left out because no detector assessed the kind: {excluded}."]
    return lines


def _losses_table(fits: dict[str, dict[str, object]]) -> list[str]:
    names = ("platt", "beta", "isotonic", "multi")
    lines = ["| kind | chosen | " + " | ".join(names) + " |", "|" + "---|" * (2 + len(names))]
    for kind, fit in fits.items():
        losses = fit["losses"]
        cells = [f"{losses[n]:.4f}" if n in losses else "-" for n in names]  # type: ignore[operator]
        lines.append(f"| {kind} | {fit['method']} | " + " | ".join(cells) + " |")
    return lines


def _targets(fits: dict[str, dict[str, object]]) -> list[str]:
    real = {k: f["stats"]["real"] for k, f in fits.items()}  # type: ignore[index]
    macro = np.mean([s.get("f1", 0.0) for s in real.values()])
    lines = [f"- Macro-F1 >= 0.90: **{'met' if macro >= 0.9 else 'NOT met'}** ({macro:.3f})."]
    for kind, s in real.items():
        if "f1" not in s:
            lines.append(f"- {kind}: no positives or no negatives among the real runs.")
            continue
        misses = [
            name
            for name, ok in (
                ("recall >= 0.80", s["recall"] >= 0.8),
                ("precision >= 0.80", s["precision"] >= 0.8),
                ("ECE <= 0.05", s["ece"] <= 0.05),
                ("Brier < base rate", s["brier"] < s["brier_base_rate"]),
            )
            if not ok
        ]
        verdict = "all met" if not misses else "NOT met: " + ", ".join(misses)
        lines.append(f"- {kind}: {verdict}.")
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


def write_report(  # type: ignore[no-untyped-def]
    fits, *, counts: dict[str, int], seed: int, digests: dict[str, str]
) -> None:
    """Write REPORT.md from the fits (held-out numbers) and the public runs."""
    figures = {source: _diagram(fits, source) for source in ("synthetic", "real")}
    text = [
        "# Calibration report",
        "",
        "Regenerate with `python calibration/fit.py` (one command: scores, fit, map, report).",
        "",
        "## What a probability means here",
        "",
        "For each of the seven problem kinds, the detectors' raw scores are mapped to the "
        "frequency with which runs scoring like that *had the problem* in a labelled corpus of "
        f"{counts['synthetic']} synthetic runs and {counts['real']} real runs "
        "(`calibration/real/README.md`). Every number below is **held out**: 5-fold "
        "cross-validation grouped by generating configuration (a synthetic run is its own "
        "configuration; real runs of one configuration and different seeds share a group), "
        "fitting on synthetic and real runs together, with the real runs weighted so that "
        "both sources carry equal total weight. The map of each kind is chosen by held-out "
        "log loss among Platt scaling, beta calibration, isotonic regression (with >= 40 "
        "positives and negatives) and a logistic model over all seven kinds' scores ("
        "`dynamics_stats.calibration.select_calibrator`). ECE is the equal-mass expected "
        "calibration error (10 bins) with a 95% bootstrap interval; precision, recall and F1 "
        "are at probability 0.5; raw AUC is the detector score's AUC before calibration; the "
        "onset error is the median |predicted - true onset| / run length over detected "
        "positives.",
        "",
        f"## Real runs: {counts['real']} runs (corpus hash `{digests['real']}`)",
        "",
        *_kind_table(fits, "real"),
        "",
        f"![reliability, real]({figures['real']})",
        "",
        "### Targets (held-out, real runs)",
        "",
        *_targets(fits),
        "",
        f"## Synthetic corpus: {counts['synthetic']} runs (seed {seed}, hash "
        f"`{digests['synthetic']}`)",
        "",
        *_kind_table(fits, "synthetic"),
        "",
        f"![reliability, synthetic]({figures['synthetic']})",
        "",
        "## Held-out log loss of each candidate map (both sources, weighted)",
        "",
        *_losses_table(fits),
        "",
        _ECE_NOTE,
        "",
        "## What the analyzer says on the public runs",
        "",
        "Real logs from public projects, without labels (a sanity check, not an evaluation).",
        "",
        *_public_table(),
        "",
    ]
    (HERE / "REPORT.md").write_text("\n".join(text))
