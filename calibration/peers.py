"""Run the peer tools losslint and trainspotter on the held-out real runs, beside ours.

    python calibration/peers.py [--runs DIR] [--labels CSV] [--ours CSV]

Each peer is installed from PyPI (pinned) into its own virtual environment under
``calibration/.peer_venvs/`` (never into the package's environment), run through its own
command line on every run's ``metrics.csv``, and its findings are mapped to our seven kinds
by the table ``MAPPING`` below (written into PEERS.md). A kind a peer has no check for is
"not covered", not a zero. Ours are the out-of-fold probabilities of
``calibration/data/heldout_real.csv`` (written by ``calibration/fit.py``) at threshold 0.5,
on the same runs. Writes ``calibration/data/peers.csv`` (one row per tool, run and kind)
and ``calibration/PEERS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from dynamics_stats.core.kinds import CORE_KINDS

HERE = Path(__file__).resolve().parent
KINDS = CORE_KINDS
PEERS = {"losslint": "losslint==0.4.1", "trainspotter": "trainspotter==0.2.6"}
#: Columns shown in the comparison: (column name, installed tool, rename the grad-norm column).
#: trainspotter does not read Lightning's ``grad_2.0_norm_total`` as a gradient norm, so its
#: gradient check cannot run on these logs as written; the second trainspotter column gives
#: it the column renamed to ``grad_norm`` (a courtesy a user would have to find out about).
VARIANTS = (
    ("losslint", "losslint", False),
    ("trainspotter", "trainspotter", False),
    ("trainspotter (grad_norm renamed)", "trainspotter", True),
)
LIGHTNING_GRAD_NORM = "grad_2.0_norm_total"
VARIANTS_NOTE = (
    "trainspotter 0.2.6 does not recognise Lightning's `grad_2.0_norm_total` as a gradient "
    "norm, so on the logs as written its gradient-explosion check never runs; this column "
    "reruns it on copies whose header says `grad_norm`."
)

#: (tool, finding code) -> our kind; a code absent here maps to no kind. For trainspotter
#: the code is "detector" or "detector:title" (a detector with several findings).
MAPPING: dict[tuple[str, str], str | None] = {
    ("losslint", "nan_inf"): "divergence",
    ("losslint", "divergence"): "divergence",
    ("losslint", "loss_spike"): "loss_spikes",
    ("losslint", "overfit_onset"): "overfitting",
    ("losslint", "stagnation"): "stalled",
    ("losslint", "step_backtrack"): None,
    ("losslint", "parse"): None,
    ("trainspotter", "divergence"): "divergence",
    ("trainspotter", "spikes"): "loss_spikes",
    ("trainspotter", "overfitting"): "overfitting",
    ("trainspotter", "plateau"): "stalled",
    ("trainspotter", "grad_norm:Gradient-norm explosion"): "exploding_gradients",
    ("trainspotter", "grad_norm:Gradient clipping likely saturated"): None,
    ("trainspotter", "lr_schedule"): None,
    ("trainspotter", "throughput"): None,
    ("trainspotter", "eval_noise"): None,
    ("trainspotter", "loss_floor"): None,
}
NOTES = {
    "trainspotter": "an `overfitting` finding that trainspotter itself downgrades to info "
    "(because the run diverged) is not counted as overfitting.",
    "losslint": "`nan_inf` (a NaN/Inf in any series) is counted as divergence.",
}


def covered(tool: str) -> set[str]:
    """Kinds the tool has at least one check for."""
    return {kind for (name, _), kind in MAPPING.items() if name == tool and kind}


def ensure_venv(tool: str, folder: Path) -> tuple[Path | None, str]:
    """Create ``folder/tool`` with the pinned peer installed; return (executable, error)."""
    env = folder / tool
    exe = env / "bin" / tool
    if exe.exists():
        return exe, ""
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    done = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", PEERS[tool]],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not exe.exists():
        return None, (done.stderr or done.stdout).strip()[-2000:]
    return exe, ""


def _command(tool: str, exe: Path, metrics: Path) -> list[str]:
    if tool == "losslint":
        return [str(exe), "check", str(metrics), "--format", "json", "--color", "never"]
    return [str(exe), "analyze", str(metrics), "--format", "lightning", "--output", "json"]


def _renamed_copy(metrics: Path, folder: Path) -> Path:
    """A copy of ``metrics`` whose Lightning grad-norm column is called ``grad_norm``."""
    header, _, body = metrics.read_text(encoding="utf-8").partition("\n")
    names = ["grad_norm" if n == LIGHTNING_GRAD_NORM else n for n in header.split(",")]
    target = folder / metrics.parent.name / "metrics.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(",".join(names) + "\n" + body, encoding="utf-8")
    return target


def _codes(tool: str, report: dict) -> list[str]:
    codes = []
    for finding in report.get("findings", []):
        if tool == "losslint":
            codes.append(finding["check"])
        elif finding["detector"] == "overfitting" and finding["severity"] == "info":
            continue
        elif finding["detector"] == "grad_norm":
            codes.append(f"grad_norm:{finding['title']}")
        else:
            codes.append(finding["detector"])
    return codes


def run_peer(tool: str, exe: Path, metrics: Path) -> tuple[str, set[str], list[str]]:
    """Run one peer on one run; return (status, detected kinds, unmapped codes)."""
    done = subprocess.run(
        _command(tool, exe, metrics), capture_output=True, text=True, check=False, timeout=300
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        message = (done.stderr or done.stdout).strip().splitlines()
        return f"error: {message[-1] if message else done.returncode}", set(), []
    codes = _codes(tool, report)
    unknown = [c for c in codes if (tool, c) not in MAPPING]
    kinds = {MAPPING[(tool, c)] for c in codes if MAPPING.get((tool, c))}
    return "ok", kinds, unknown  # type: ignore[return-value]


def peer_rows(
    variant: tuple[str, str, bool], exe: Path, runs: Path, labels: pd.DataFrame
) -> list[dict]:
    """One row per run and kind: detected (None when not covered or the tool failed)."""
    column, tool, rename = variant
    ids = list(labels.index)
    with tempfile.TemporaryDirectory() as scratch:
        paths = [runs / r / "metrics.csv" for r in ids]
        if rename:
            paths = [_renamed_copy(path, Path(scratch)) for path in paths]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda path: run_peer(tool, exe, path), paths))
    rows = []
    for run_id, (status, kinds, unknown) in zip(ids, results, strict=True):
        for kind in KINDS:
            ok = status == "ok" and kind in covered(tool)
            rows.append(
                {
                    "tool": column,
                    "run_id": run_id,
                    "kind": kind,
                    "detected": int(kind in kinds) if ok else None,
                    "label": int(labels.loc[run_id, f"label_{kind}"]),
                    "status": status if kind in covered(tool) else "not covered",
                    "unmapped": ";".join(unknown),
                }
            )
    return rows


def our_rows(ours: pd.DataFrame, labels: pd.DataFrame) -> list[dict]:
    """Our detections at probability >= 0.5 on the labelled runs."""
    rows = []
    for row in ours[ours["run_id"].isin(labels.index)].itertuples(index=False):
        rows.append(
            {
                "tool": "dynamics_stats",
                "run_id": row.run_id,
                "kind": row.kind,
                "detected": int(row.probability >= 0.5),
                "label": int(labels.loc[row.run_id, f"label_{row.kind}"]),
                "status": "ok",
                "unmapped": "",
            }
        )
    return rows


def scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 per tool and kind over the runs the tool handled."""
    out = []
    for (tool, kind), part in frame.groupby(["tool", "kind"], sort=False):
        judged = part.dropna(subset=["detected"])
        entry = {"tool": tool, "kind": kind, "n": len(judged), "positives": 0}
        if judged.empty:
            out.append({**entry, "precision": None, "recall": None, "f1": None})
            continue
        hit, y = judged["detected"].astype(int), judged["label"].astype(int)
        tp, fp, fn = int((hit & y).sum()), int((hit & (1 - y)).sum()), int(((1 - hit) & y).sum())
        nan = float("nan")
        precision = tp / (tp + fp) if tp + fp else nan  # undefined without detections
        recall = tp / (tp + fn) if tp + fn else nan  # undefined without positives
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fn else nan
        out.append(
            {
                **entry,
                "positives": int(y.sum()),
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "tp": tp,
                "fp": fp,
                "fn": fn,
            }
        )
    return pd.DataFrame(out)


def _cell(table: pd.DataFrame, column: str, kind: str, failed: dict[str, str]) -> str:
    tool = dict((v[0], v[1]) for v in VARIANTS).get(column, column)
    if tool in failed:
        return "not installed"
    if tool != "dynamics_stats" and kind not in covered(tool):
        return "not covered"
    row = table[(table["tool"] == column) & (table["kind"] == kind)]
    if row.empty and column == "dynamics_stats":
        return "pending (no heldout_real.csv)"
    if row.empty or row.iloc[0]["n"] == 0:
        return "no runs"
    r = row.iloc[0]
    if r["positives"] == 0:
        return f"no positive runs; {int(r['fp'])} false alarms"
    shown = ["-" if pd.isna(r[m]) else f"{r[m]:.2f}" for m in ("precision", "recall", "f1")]
    return " / ".join(shown)


def _problems(frame: pd.DataFrame) -> list[str]:
    lines = []
    for column, _, _ in VARIANTS:
        part = frame[frame["tool"] == column]
        errors = part[part["status"].str.startswith("error")]
        if not errors.empty:
            lines.append(
                f"- {column} failed on {errors['run_id'].nunique()} runs (not judged there), "
                f"e.g. `{errors.iloc[0]['status']}`."
            )
        codes = {c for u in part["unmapped"].fillna("") for c in str(u).split(";") if c}
        if codes:
            lines.append(f"- {column} reported codes missing from the mapping: {sorted(codes)}.")
    return lines


def write_markdown(table: pd.DataFrame, frame: pd.DataFrame, failed: dict, meta: dict) -> str:
    """PEERS.md: the comparison, the mapping, install problems and caveats."""
    columns = ["dynamics_stats", *(v[0] for v in VARIANTS)]
    peers = ", ".join(f"`{v}`" for v in PEERS.values())
    lines = [
        "# Peer comparison on the held-out real runs",
        "",
        f"Generated by `python calibration/peers.py` on {dt.date.today().isoformat()}; do not "
        "edit by hand.",
        "",
        f"Runs: {meta['n_runs']} runs of `{meta['runs']}` labelled in `{meta['labels']}`"
        f"{meta['ours_note']}. Peers: {peers}, each in its own virtual environment, run "
        "through its command line with default thresholds on each run's `metrics.csv` "
        "(trainspotter with `--format lightning`).",
        "",
        "Cells are precision / recall / F1 at threshold 0.5 (a peer 'detects' a kind when it "
        "reports any finding mapped to it below). 'not covered': the tool has no check for "
        "that kind (not a zero).",
        "",
        "| kind | runs | positives | " + " | ".join(columns) + " |",
        "|---|---|---|" + "---|" * len(columns),
    ]
    for kind in KINDS:
        cells = [_cell(table, column, kind, failed) for column in columns]
        pos = meta["positives"][kind]
        lines.append(f"| {kind} | {meta['n_runs']} | {pos} | " + " | ".join(cells) + " |")
    lines += ["", "## Mapping of peer findings to our kinds", ""]
    lines += ["| tool | finding | our kind |", "|---|---|---|"]
    lines += [f"| {t} | `{c}` | {k or '(not mapped)'} |" for (t, c), k in MAPPING.items()]
    lines += ["", "## Notes", ""] + [f"- {tool}: {text}" for tool, text in NOTES.items()]
    lines.append(f"- {VARIANTS[2][0]}: {VARIANTS_NOTE}")
    lines += _problems(frame)
    for tool, error in failed.items():
        lines += ["", f"## {tool} could not be installed", "", "```", error, "```"]
    return "\n".join(lines) + "\n"


def run_peers(args: argparse.Namespace, labels: pd.DataFrame, failed: dict[str, str]) -> list:
    """Install each peer and run every variant; installation errors go into ``failed``."""
    installed, rows = {}, []
    for tool in PEERS:
        installed[tool], error = ensure_venv(tool, args.venvs)
        if installed[tool] is None:
            failed[tool] = error
    for variant in VARIANTS:
        if installed[variant[1]] is not None:
            rows += peer_rows(variant, installed[variant[1]], args.runs, labels)
            print(f"{variant[0]}: ran on {len(labels)} runs", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=HERE / "real" / "runs")
    parser.add_argument("--labels", type=Path, default=HERE / "real" / "labels.csv")
    parser.add_argument("--ours", type=Path, default=HERE / "data" / "heldout_real.csv")
    parser.add_argument("--venvs", type=Path, default=HERE / ".peer_venvs")
    parser.add_argument("--out-csv", type=Path, default=HERE / "data" / "peers.csv")
    parser.add_argument("--out-md", type=Path, default=HERE / "PEERS.md")
    parser.add_argument(
        "--reuse", action="store_true", help="rebuild PEERS.md from the peers' rows in --out-csv"
    )
    args = parser.parse_args(argv)
    labels = pd.read_csv(args.labels).set_index("run_id")
    labels = labels[[(args.runs / r / "metrics.csv").is_file() for r in labels.index]]
    ours_note, rows = " (ours: heldout_real.csv missing, not compared)", []
    if args.ours.is_file():
        ours = pd.read_csv(args.ours)
        labels = labels[labels.index.isin(ours["run_id"])]
        rows += our_rows(ours, labels)
        ours_note = f"; ours = out-of-fold probabilities from `{args.ours.name}`"
    failed: dict[str, str] = {}
    if args.reuse:
        peers = pd.read_csv(args.out_csv)
        rows += peers[peers["tool"] != "dynamics_stats"].to_dict("records")
    else:
        rows += run_peers(args, labels, failed)
    frame = pd.DataFrame(rows)
    table = scores(frame)
    args.out_csv.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out_csv, index=False)
    meta = {
        "n_runs": len(labels),
        "runs": args.runs.name,
        "labels": args.labels.name,
        "ours_note": ours_note,
        "positives": {k: int(labels[f"label_{k}"].sum()) for k in KINDS},
    }
    args.out_md.write_text(write_markdown(table, frame, failed, meta), encoding="utf-8")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
