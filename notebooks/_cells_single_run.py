"""Cells of ``01_single_run.ipynb``: analysing the real run bundled with the package."""

CELLS = [
    (
        "md",
        """
# 01 - Analysing one real run

The package ships one real training log: `dynamics_stats/examples/digits_overfit`, a PyTorch
Lightning MLP trained on scikit-learn's digits with `CSVLogger` (per-step train loss, learning
rate and gradient norm; validation loss and accuracy every 50 steps). It was made to overfit:
only 150 training images, no regularisation.

This notebook loads it, shows which metric plays which role, runs the analysis, draws the
curves with their smoothed level, uncertainty band and changepoints, and reads the findings
and recommendations.
""",
    ),
    (
        "code",
        """
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import dynamics_stats
from dynamics_stats.agent.analyze import analyze_in_detail
from dynamics_stats.core.analysis_config import AnalysisConfig
from dynamics_stats.io import load_run
from dynamics_stats.validate import validate_run

RUN = Path(dynamics_stats.__file__).parent / "examples" / "digits_overfit"
config = AnalysisConfig()
run_log = load_run(RUN)
artifacts = validate_run(run_log, config.validation)
print(f"{artifacts.format}: {len(artifacts.metrics)} metrics; unit: {artifacts.step_unit}")
""",
    ),
    (
        "md",
        """
## Roles

Loaders and validation give each metric a canonical role (`train_loss`, `val_loss`,
`learning_rate`, `grad_norm`, ...). When a role has several candidates (here the per-step
and the per-epoch train loss) one of them is *primary*: the one the detectors read.
""",
    ),
    (
        "code",
        """
pd.DataFrame([m.describe() for m in artifacts.metrics]).set_index("name")
""",
    ),
    (
        "code",
        """
dict(artifacts.primary)
""",
    ),
    (
        "md",
        """
## Analyse

`analyze_in_detail` runs the whole pipeline once and keeps what reports need besides the
result: the curve models (`details.modelled`) and the detectors' raw evidence.
""",
    ),
    (
        "code",
        """
details = analyze_in_detail(artifacts, config)
result = details.result
probabilities = pd.Series(dict(result.issues), name="probability")
assert len(probabilities) == 7 and probabilities.between(0, 1).all()
probabilities.round(3).to_frame()
""",
    ),
    (
        "md",
        """
## Curves, bands and changepoints

Each modelled curve carries a smoothed level and its standard error, on the log10 scale for
positive losses and norms. The band is the 95% interval of the level (not of the noisy
points). Dashed lines are changepoints with their probability; red lines are the onsets of
findings.
""",
    ),
    (
        "code",
        """
def plot_role(ax, role):
    \"\"\"Draw one role's logged values, smoothed level, band, changepoints and onsets.\"\"\"
    metric = artifacts.get(role)
    if metric is None:
        ax.set_visible(False)
        return
    curve = details.modelled.curves.get(metric.name)
    style = {"marker": "o", "ms": 3, "ls": "none"} if len(metric) <= 200 else {"lw": 0.6}
    ax.plot(metric.steps, metric.values, alpha=0.5, label=f"{metric.name} (logged)", **style)
    if curve is not None:
        to_natural = (lambda v: 10.0**v) if curve.log_scale else (lambda v: v)
        low = to_natural(curve.level - 1.96 * curve.level_se)
        high = to_natural(curve.level + 1.96 * curve.level_se)
        ax.fill_between(curve.steps, low, high, alpha=0.25, label="95% band of the level")
        ax.plot(curve.steps, to_natural(curve.level), lw=2, label="smoothed level")
        finite = metric.values[np.isfinite(metric.values) & (metric.values > 0)]
        if curve.log_scale and len(finite) and finite.max() / finite.min() > 30:
            ax.set_yscale("log")  # only when the range is wide
    for cp in details.modelled.changepoints.get(metric.name, ()):
        ax.axvline(cp.step, ls="--", color="grey")
        ax.annotate(f"p={cp.probability:.2f}", (cp.step, 0.9), xycoords=("data", "axes fraction"))
    for finding in result.findings:
        if finding.metric == metric.name and finding.onset_step is not None:
            ax.axvline(finding.onset_step, color="red", label=f"{finding.kind} onset")
    ax.set_title(role)
    ax.legend(fontsize=7, loc="upper right")


fig, axes = plt.subplots(4, 1, figsize=(9, 11), sharex=True)
for ax, role in zip(axes, ["train_loss", "val_loss", "grad_norm", "val_metric"], strict=True):
    plot_role(ax, role)
axes[-1].set_xlabel("step")
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
## Findings

A finding is a problem with its calibrated probability, where it starts, how bad it would be
if real (severity) and the numbers behind it (evidence).
""",
    ),
    (
        "code",
        """
pd.DataFrame(
    [
        {
            "kind": f.kind,
            "probability": f.probability,
            "severity": f.severity,
            "metric": f.metric,
            "onset_step": f.onset_step,
            "message": f.message,
        }
        for f in result.findings
    ]
)
""",
    ),
    (
        "code",
        """
for finding in result.findings:
    print(finding.kind, {name: round(value, 4) for name, value in finding.evidence})
""",
    ),
    (
        "md",
        """
## Recommendations, risk and limitations
""",
    ),
    (
        "code",
        """
for number, rec in enumerate(result.recommendations, start=1):
    print(f"{number}. [{rec.action}] {rec.text}")
print()
print(f"risk: {result.risk.level} ({result.risk.score:.2f}); confidence: {result.confidence.level}")
for item in result.limitations:
    print("limitation:", item)
""",
    ),
    (
        "md",
        """
## The same as a terminal report and as an HTML page

`render_text` is what `dynamics-stats analyze RUN` prints; `render_html` is what
`dynamics-stats analyze RUN --format html --out report.html` writes (one self-contained file
with the plots). The page is written to a temporary folder, never into the run's folder.
""",
    ),
    (
        "code",
        """
import tempfile

from dynamics_stats.report.html import render_html
from dynamics_stats.report.render import render_text

print(render_text(result))
page = Path(tempfile.mkdtemp()) / "digits_overfit.html"
page.write_text(render_html(details), encoding="utf-8")
print(f"\\nHTML report: {page} ({page.stat().st_size:,} bytes)")
""",
    ),
]
