# Two entry points for people (`make demo`, `make test`); everything else is a building block.
#
# A fresh machine needs only Python 3.11 and make. The install depends on the checkout alone, never on what
# was released since the locks were made: the venv's own bundled pip installs exactly one thing, the uv of
# requirements/bootstrap.lock (pinned and hashed, no dependencies), and uv then installs the hashed lock of one
# Airflow minor (`uv pip sync`: exactly the lock, anything else removed). A stock pip resolving the lock
# itself looks at the newest release of a requirement with an extra and stops on a hash-less pin
# (uvicorn[standard] after 0.55.0 came out); uv reads a lock as the exact set it is.
#
# One lock and one venv per supported Airflow minor: .venv is the newest (lint, demo, bench, every tier);
# .venv-<minor> for the others. `make test` runs unit + integration on each minor and the system and browser
# tiers on the newest and the oldest, the chaos tier on the newest.
PYTHON    ?= python3
MINORS    := 3.1 3.2 3.3
NEWEST    := 3.3
OLDEST    := 3.1
AIRFLOW   ?= $(NEWEST)
BOOTSTRAP := requirements/bootstrap.lock
venv_of    = $(if $(filter $(NEWEST),$(1)),.venv,.venv-$(1))
VENV      := $(call venv_of,$(AIRFLOW))
PY        := $(VENV)/bin/python
PYTEST    := $(VENV)/bin/pytest
# Each test tier prints its own wall time and Airflow minor, so CI logs show where the minutes go.
SHELL     := /bin/bash
TIMED      = TIMEFORMAT="tier time ($@, Airflow $(AIRFLOW)): %R s"; time

.PHONY: install install-all lock lint test test-unit test-integration test-system test-chaos test-minor chromium \
	services demo bench dist mutation clean

# --- venvs: one per Airflow minor ------------------------------------------------------------------------
define VENV_RULES
$(2)/bin/python:
	$(PYTHON) -m venv $(2)

# The bundled pip installs the bootstrap lock only: one pinned, hashed wheel without dependencies.
$(2)/.bootstrapped: $(BOOTSTRAP) | $(2)/bin/python
	$(2)/bin/python -m pip install --quiet --require-hashes --no-deps -r $(BOOTSTRAP)
	touch $$@

# Exactly the lock (hashes required), then the repository's two projects (the provider and the emulator,
# emulator/), editable, built by the locked hatchling.
$(2)/.installed: requirements/airflow-$(1).lock pyproject.toml emulator/pyproject.toml $(2)/.bootstrapped
	$(2)/bin/uv pip sync --quiet --python $(2)/bin/python --require-hashes requirements/airflow-$(1).lock
	$(2)/bin/uv pip install --quiet --python $(2)/bin/python --no-deps --no-build-isolation -e . -e ./emulator
	touch $$@
endef
$(foreach m,$(MINORS),$(eval $(call VENV_RULES,$(m),$(call venv_of,$(m)))))

install: $(VENV)/.installed

install-all: $(foreach m,$(MINORS),$(call venv_of,$(m))/.installed)

# Re-resolve every lock after changing dependencies in pyproject.toml (keeps existing pins where they still
# fit; UV_ARGS=--upgrade moves everything to the newest allowed versions). requirements/projects.in names
# the two local projects (the provider with its dev extra, and the emulator, which no index has), so the
# lock holds their dependencies and neither of them. The bootstrap lock takes the uv that the newest lock
# pins, so the installer and the tool it installs are the same version.
lock: install
	@for m in $(MINORS); do \
		echo "apache-airflow>=$$m,<$$m.999" > requirements/airflow-$$m.in; \
		$(VENV)/bin/uv pip compile requirements/projects.in --python-version 3.11 \
			--python-platform x86_64-unknown-linux-gnu --generate-hashes \
			--no-emit-package airflow-provider-modelarts --no-emit-package modelarts-emulator \
			--custom-compile-command "make lock" \
			--quiet $(UV_ARGS) -c requirements/airflow-$$m.in -o requirements/airflow-$$m.lock || exit 1; \
	done
	$(PY) scripts/bootstrap_lock.py requirements/airflow-$(NEWEST).lock $(BOOTSTRAP)

# --- checks ----------------------------------------------------------------------------------------------
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy airflow_provider_modelarts emulator/modelarts_emulator dags_examples
	$(PY) scripts/unasync.py --check

# The browser tier drives Debian's chromium (CI runs as root); Playwright never downloads a browser.
# apt's output goes to .airflow/apt.log (shown only when the install fails).
chromium:
	@test -x /usr/bin/chromium || { mkdir -p .airflow; echo "installing Debian's chromium (log: .airflow/apt.log)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		> .airflow/apt.log 2>&1 || { tail -20 .airflow/apt.log; exit 1; }; }

# Unit tests: everything outside integration/ and system/ (no server, respx at the network edge): tests/unit,
# which mirrors the package, and the repository checks of tests/repo (module size, imports, locks, ...).
test-unit: install
	$(TIMED) $(PYTEST) -q tests --ignore=tests/integration --ignore=tests/system

# Integration tests: the Airflow pieces and the client against the emulator over real HTTP.
test-integration: install
	$(TIMED) $(PYTEST) -q tests/integration

# The production-shaped deployment's services: Debian's PostgreSQL and Redis, installed when missing (the
# tier's harness starts private instances of them on loopback ports and stops them; no system service is
# started). apt's output goes to .airflow/apt.log (shown only when the install fails).
services:
	@test -x /usr/bin/redis-server && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { mkdir -p .airflow; \
		echo "installing Debian's postgresql and redis-server (log: .airflow/apt.log)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		postgresql redis-server) > .airflow/apt.log 2>&1 || { tail -20 .airflow/apt.log; exit 1; }; }

# System and browser tiers: one production-shaped deployment per pytest session (PostgreSQL, Redis, Celery
# with two workers on separate folders, two schedulers, two triggerers, an S3-compatible store; see
# tests/system/production_deployment.py), the README's newcomer path on SQLite `airflow standalone`
# (test_newcomer.py) and `airflow dags test` of every example. Prints the run table at the end.
test-system: install chromium services
	$(TIMED) $(PYTEST) -q tests/system -m "not chaos" --durations=10

# Chaos tier: the same production-shaped deployment, its components killed mid-work (test_chaos.py). Prints
# the chaos table at the end.
test-chaos: install services
	$(TIMED) $(PYTEST) -q tests/system -m chaos --durations=10

# Unit + integration on one minor: `make test-minor AIRFLOW=3.2`.
test-minor: test-unit test-integration

# Lint once; unit + integration on every minor; system + browser on the newest and the oldest; chaos on the
# newest; then the release check (`make dist`).
test: lint
	@SECONDS=0; set -e; for m in $(MINORS); do \
		$(MAKE) --no-print-directory test-minor AIRFLOW=$$m; \
		echo "minor time (unit + integration, Airflow $$m): $$SECONDS s"; SECONDS=0; \
	done; \
	for m in $(NEWEST) $(OLDEST); do \
		$(MAKE) --no-print-directory test-system AIRFLOW=$$m; \
		echo "minor time (system + browser, Airflow $$m): $$SECONDS s"; SECONDS=0; \
	done; \
	$(MAKE) --no-print-directory test-chaos AIRFLOW=$(NEWEST); echo "chaos time (Airflow $(NEWEST)): $$SECONDS s"; \
	SECONDS=0; \
	$(MAKE) --no-print-directory dist; echo "dist time: $$SECONDS s"

# --- for people ------------------------------------------------------------------------------------------
# Starts the emulator, runs the example pipeline with `airflow dags test` against it, prints what happened.
# DEMO_ARGS passes options through, e.g. `make demo DEMO_ARGS="--pass-rate 0.5"` shows the reject path.
demo: install
	$(PY) scripts/demo.py $(DEMO_ARGS)

# Measures speed, memory and cost against the targets; prints a table, writes bench/results.md and regenerates
# the measured block of the README's Performance section from it (bench/readme_section.py).
bench: install
	$(PY) bench/run.py
	$(PY) bench/readme_section.py

# Mutation testing (mutmut) of the deciding modules, each against its own unit tests; prints each module's
# kill rate and fails below 90% (bulk tally and acceptance decision: 95%). Not part of `make test`; 10.7
# minutes for 15 of its (now 19) modules on an idle 2-core machine. MUTATION_ARGS="--only bulk.tally --jobs 1"
# runs one module; scripts/mutation.py says how equivalent mutants (tests/mutation/equivalent_mutants.md) are
# counted.
mutation: install
	$(PY) scripts/mutation.py $(MUTATION_ARGS)

# Builds the sdist and wheel of both distributions (the provider, and the emulator from emulator/), checks
# them with twine, then installs the provider's wheel with its emulator extra (resolved to the emulator's
# wheel just built) into a clean venv from the index, as a user would, and runs the demo DAG there; see
# scripts/check_dist.py.
dist: install
	rm -rf dist
	$(VENV)/bin/uv build --quiet --no-build-isolation --python $(PY) --out-dir dist
	$(VENV)/bin/uv build --quiet --no-build-isolation --python $(PY) --out-dir dist emulator
	$(VENV)/bin/twine check --strict dist/*
	$(PY) scripts/check_dist.py dist requirements/airflow-$(NEWEST).lock

clean:
	rm -rf .venv $(foreach m,$(MINORS),.venv-$(m)) .airflow .pytest_cache .mypy_cache .ruff_cache \
		test-artifacts dist mutants
