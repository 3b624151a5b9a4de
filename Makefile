# Two commands on a fresh clone: `make run` starts the app locally, `make test` runs every test.
# Both create .venv (with the app's and the tests' requirements) when it is missing or stale.
# `make PYTHON=python3.12 ...` rebuilds .venv when it was made by another interpreter.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
ARGS ?=

# The interpreter asked for, as "<version> <real path>"; the stamp's first line records the one .venv was made with.
WANTED := $(shell $(PYTHON) -c 'import os, sys; print(sys.version.split()[0], os.path.realpath(sys.executable))' 2>/dev/null)
BUILT := $(shell sed -n 1p $(STAMP) 2>/dev/null)
# devhost and the Durable SDK need Python 3.10+: an older one stops make with one line, not pip's resolver error.
OLD_PYTHON := $(shell echo '$(firstword $(WANTED))' | awk -F. '$$1 < 3 || ($$1 == 3 && $$2 < 10) {print "yes"}')
TOO_OLD = make: $(PYTHON) is Python $(firstword $(WANTED)) ($(lastword $(WANTED))), and devhost needs Python 3.10 or \
newer: pass PYTHON=python3.x, a newer interpreter (for example make PYTHON=python3.12 run)

PEERS_VENV := .venv-peers

.PHONY: venv run test test-fast mutate bench bench-peers chromium

# PYTHON given on the command line or in the environment and .venv made by another one: rebuild it.
ifneq ($(origin PYTHON),file)
ifeq ($(WANTED),)
$(error PYTHON=$(PYTHON) does not run; pass a Python 3.10+ interpreter)
endif
ifeq ($(OLD_PYTHON),yes)
$(error $(TOO_OLD))
endif
ifneq ($(WANTED),$(BUILT))
REBUILD := yes
.PHONY: $(STAMP)
endif
endif

venv: $(STAMP)

# The stamp depends on both requirements files, so editing either re-runs pip.
$(STAMP): requirements.txt tests/requirements.txt
	@test -n "$(WANTED)" || { echo "make: $(PYTHON) does not run; pass PYTHON=<a Python 3.10+ interpreter>" >&2; exit 1; }
	@test -x $(VENV_PYTHON) || test "$(OLD_PYTHON)" != yes || { echo "$(TOO_OLD)" >&2; exit 1; }
	$(if $(REBUILD),rm -rf $(VENV))
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -q -r requirements.txt -r tests/requirements.txt
	$(VENV_PYTHON) -c 'import os, sys; print(sys.version.split()[0], os.path.realpath(sys.executable))' > $(STAMP)

# `make run ARGS="--port 7072 --time-travel"` passes flags to devhost (python -m devhost --help lists them).
run: venv
	$(VENV_PYTHON) -m devhost $(ARGS)

# Every test; with a path in PYTEST_ARGS only that path (pytest.ini's testpaths = tests apply when none is given).
test: venv
	$(VENV_PYTHON) -m pytest -q $(PYTEST_ARGS)

# Everything but the end-to-end tests (marker e2e: tests that start devhost processes), in seconds.
test-fast: venv
	$(VENV_PYTHON) -m pytest -q -m "not e2e" $(PYTEST_ARGS)

# Mutation testing of the pure core (devhost/protocol) against the fast tests that pin it, one mutant at a time at low
# priority; not part of `make test` (minutes). MUTATE_MODULES=engine.py,shim.py, MUTATE_LIMIT=N (per module), and
# MUTATE_MATCH=text narrow it: docs/mutation.md.
mutate: venv
	nice -n 10 $(VENV_PYTHON) tools/mutate.py $(ARGS)

# Debian's Chromium for the dashboard's browser tests (tests/conftest.py finds it; without one they are skipped).
chromium:
	@if [ -x /usr/bin/chromium ]; then echo "Chromium is installed: /usr/bin/chromium"; else \
	    SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	    $$SUDO apt-get update && $$SUDO apt-get install -y chromium; fi

bench: venv
	$(VENV_PYTHON) -m benchmarks.bench

# DBOS and durabletask-python in a virtual environment of their own, never in the app's requirements.
bench-peers: venv
	test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --disable-pip-version-check -q -r tests/peers/requirements.txt
	$(VENV_PYTHON) -m benchmarks.peers $(PEERS_VENV)/bin/python
