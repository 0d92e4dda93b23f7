# Two entry points for people (`make demo`, `make test`); everything else is a building block.
# A fresh machine needs only Python 3.11 and make: the first target creates .venv and installs the exact
# versions of requirements/dev.lock (the set CI passed with), then the project itself without dependencies.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOCK   := requirements/dev.lock
PYTEST := $(VENV)/bin/pytest
# Each test tier prints its own wall time, so CI logs show where the minutes go (bash's `time` keyword).
SHELL  := /bin/bash
TIMED  := TIMEFORMAT="tier time: %R s"; time

.PHONY: install lock lint test test-unit test-integration test-system chromium demo bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when the lock or the project's metadata changes. `--require-hashes` is implied by the
# hashes in the lock; the editable install uses the locked hatchling (no build isolation, no download).
$(STAMP): $(LOCK) pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Re-resolve the lock after changing dependencies in pyproject.toml (keeps existing pins where they still fit;
# add UV_ARGS=--upgrade to move everything to the newest allowed versions).
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu --generate-hashes \
		--no-emit-package airflow-provider-modelarts --custom-compile-command "make lock" \
		--quiet $(UV_ARGS) -o $(LOCK)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy airflow_provider_modelarts dags_examples
	$(PY) scripts/unasync.py --check

# The browser tier drives Debian's chromium (CI runs as root); Playwright never downloads a browser.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# Unit tests: everything outside integration/ and system/ (no server, respx at the network edge).
test-unit: install
	$(TIMED) $(PYTEST) tests --ignore=tests/integration --ignore=tests/system

# Integration tests: the Airflow pieces and the client against the emulator over real HTTP.
test-integration: install
	$(TIMED) $(PYTEST) tests/integration

# System and browser tiers share one real deployment (`airflow standalone` + emulator) per pytest session.
test-system: install chromium
	$(TIMED) $(PYTEST) tests/system --durations=0

test: lint test-unit test-integration test-system

# Starts the emulator, runs the example pipeline with `airflow dags test` against it, prints what happened.
# DEMO_ARGS passes options through, e.g. `make demo DEMO_ARGS="--pass-rate 0.5"` shows the reject path.
demo: install
	$(PY) scripts/demo.py $(DEMO_ARGS)

# Measures speed, memory and cost against the targets; prints a table and writes bench/results.md.
bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .airflow .pytest_cache .mypy_cache .ruff_cache test-artifacts
