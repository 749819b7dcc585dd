"""Cells of ``02_sweep_study.ipynb``: the real digits sweep bundled with the package."""

CELLS = [
    (
        "md",
        """
# 02 - A sweep study

`dynamics_stats/examples/digits_sweep` is a real random hyper-parameter sweep: 24 Lightning
MLPs on scikit-learn's digits (learning rate, width, dropout, batch size, weight decay,
optimizer, and `tag`, an integer the training never reads). Each run is analysed on its own
(best validation loss, the seven problem probabilities); then the sweep layer ranks the
parameters by held-out permutation importance, with bootstrap intervals, correlates them with
the objective and with each problem, and corrects the p-values for the number of tests.

The inert `tag` parameter is a built-in check: it should come out as "no detectable effect".
The per-run analyses take about half a minute on two cores.
""",
    ),
    (
        "code",
        """
from pathlib import Path

import matplotlib.pyplot as plt

import dynamics_stats
from dynamics_stats.agent.sweep import analyze_runs, build_sweep_table, correlate_runs
from dynamics_stats.io.sweep import load_sweep
from dynamics_stats.sweeps.plots import plot_importance, plot_parameter, plot_pathology

SWEEP = Path(dynamics_stats.__file__).parent / "examples" / "digits_sweep"
source = load_sweep(SWEEP)
records = analyze_runs(source, jobs=2, progress=False)
result = correlate_runs(source, records)
print(f"{len(source.runs)} runs; objective {result.objective} ({result.direction})")
table = build_sweep_table(source, records, objective=source.objective)
table.params.join(table.outcomes).head()
""",
    ),
    (
        "md",
        """
## Importance and correlation, with intervals

`importance` is the drop in held-out accuracy of a random forest when the parameter is
shuffled; its interval comes from the folds and repeats. When the forest itself does not
predict held-out runs (see the limitations), importances are noise, whatever their ranks.
""",
    ),
    (
        "code",
        """
print(result.summary())
""",
    ),
    (
        "code",
        """
columns = [
    "rank",
    "importance",
    "importance_low",
    "importance_high",
    "spearman",
    "spearman_low",
    "spearman_high",
    "p_value_adjusted",
    "significant",
    "pathologies",
]
frame = result.to_frame()
frame[[c for c in columns if c in frame.columns]]
""",
    ),
    (
        "code",
        """
ax = plot_importance(result)
plt.show()
""",
    ),
    (
        "md",
        """
## The objective against the most important parameters
""",
    ),
    (
        "code",
        """
top = [p.name for p in result.parameters[:2]]
fig, axes = plt.subplots(1, len(top), figsize=(6 * len(top), 4), squeeze=False)
for ax, name in zip(axes[0], top, strict=True):
    plot_parameter(table, name, ax=ax)
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
## Pathologies against hyper-parameters

Which parameter settings go with which problems: each link below is a correlation between a
parameter and a problem's probability across runs that survived the multiple-testing
correction.
""",
    ),
    (
        "code",
        """
links = [(p.name, link) for p in result.parameters for link in p.pathologies]
for name, link in links:
    print(
        f"{name} -> {link.kind}: {link.measure} {link.effect_size:+.2f}, "
        f"p_adj {link.p_value_adjusted:.3g}, {link.direction}"
    )
shown = links[:2] or [(result.parameters[0].name, None)]
fig, axes = plt.subplots(1, len(shown), figsize=(6 * len(shown), 4), squeeze=False)
for ax, (name, link) in zip(axes[0], shown, strict=True):
    kind = link.kind if link is not None else table.problem_columns[0].removeprefix("p_")
    plot_pathology(table, name, kind, ax=ax)
fig.tight_layout()
plt.show()
""",
    ),
]
