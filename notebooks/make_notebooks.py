"""Write the example notebooks (without outputs) from the cell sources in this folder.

Run ``python notebooks/make_notebooks.py`` after editing a ``_cells_*.py`` module; the
notebooks are stored stripped, and ``tests/notebooks/test_notebooks.py`` executes them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
NOTEBOOKS = {
    "01_single_run.ipynb": "_cells_single_run.py",
    "02_sweep_study.ipynb": "_cells_sweep_study.py",
    "03_calibration.ipynb": "_cells_calibration.py",
}


def _cells(module_file: str) -> list[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location(module_file[:-3], HERE / module_file)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(HERE / module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.CELLS)


def build(name: str, module_file: str) -> nbformat.NotebookNode:
    """Return the notebook ``name`` built from the ``CELLS`` of ``module_file``."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for index, (kind, source) in enumerate(_cells(module_file)):
        maker = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        cell = maker(source.strip("\n"))
        cell["id"] = f"{Path(name).stem[:2]}-{index:02d}"
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def main() -> int:
    """Write every notebook whose cell module exists; return 0."""
    for name, module_file in NOTEBOOKS.items():
        if not (HERE / module_file).is_file():
            continue
        nbformat.write(build(name, module_file), HERE / name)
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
