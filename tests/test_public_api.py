"""The top-level public names resolve lazily, and importing the package stays light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import dynamics_stats

LAZY_PACKAGES = [dynamics_stats]


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: p.__name__)
def test_every_name_in_all_resolves(package) -> None:
    assert len(set(package.__all__)) == len(package.__all__)
    for name in package.__all__:
        namespace: dict[str, object] = {}
        exec(f"from {package.__name__} import {name}", namespace)  # the statement users write
        assert namespace[name] is getattr(package, name)
        assert name in dir(package)


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: p.__name__)
def test_lazy_names_come_from_their_module_and_match_the_typing_imports(package) -> None:
    assert set(package._LAZY) | {"__version__"} == set(package.__all__)
    for name, module_name in package._LAZY.items():
        assert getattr(package, name) is getattr(importlib.import_module(module_name), name)
    tree = ast.parse(Path(package.__file__).read_text())
    typing_block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
    )
    typed = {
        alias.name: node.module
        for node in typing_block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == package._LAZY


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        dynamics_stats.Nope  # noqa: B018


def test_importing_the_package_and_the_analysis_skips_heavy_modules() -> None:
    # the sweep analysis and the statistics libraries load only when a run is analysed
    heavy = ["dynamics_stats.sweeps", "sklearn", "statsmodels", "scipy.stats"]
    loaded = f"print([m for m in {heavy!r} if m in sys.modules])"
    code = (
        f"import sys; import dynamics_stats; {loaded}; "
        f"from dynamics_stats import analyze, load_run, validate_run; {loaded}"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["[]", "[]"]
