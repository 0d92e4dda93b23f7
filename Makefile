# Two entry points for people (`make demo`, `make test`); everything else is a building block.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install lint test demo bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when the project's metadata changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy airflow_provider_modelarts

test: lint
	$(VENV)/bin/pytest

# Starts the emulator, runs the example pipeline with `airflow dags test` against it, prints what happened.
# DEMO_ARGS passes options through, e.g. `make demo DEMO_ARGS="--pass-rate 0.5"` shows the reject path.
demo: install
	$(PY) scripts/demo.py $(DEMO_ARGS)

# Measures speed, memory and cost against the targets; prints a table and writes bench/results.md.
bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .airflow .pytest_cache .mypy_cache .ruff_cache
