# Two entry points for a fresh clone: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS := dev,tensorboard,mlflow,wandb,hf,lightning,parquet,dask,optuna,notebooks
EXAMPLE := dynamics_stats/examples/digits_overfit

.PHONY: demo test lint install notebooks

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0" -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/dynamics-stats inspect $(EXAMPLE)
	$(VENV)/bin/dynamics-stats analyze $(EXAMPLE)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

# Regenerate the stripped notebooks from notebooks/_cells_*.py (the tests execute them).
notebooks: $(VENV)/.installed
	$(PY) notebooks/make_notebooks.py
