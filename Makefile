# Two commands on a fresh clone: `make run` starts the app locally, `make test` runs every test.
# Both create .venv (with the app's and the tests' requirements) when it is missing or stale.

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv run test bench

venv: $(STAMP)

# The stamp depends on both requirements files, so editing either re-runs pip.
$(STAMP): requirements.txt tests/requirements.txt
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -q -r requirements.txt -r tests/requirements.txt
	touch $(STAMP)

run: venv
	$(VENV_PYTHON) -m devhost

test: venv
	$(VENV_PYTHON) -m pytest -q $(PYTEST_ARGS) tests

bench: venv
	$(VENV_PYTHON) -m devhost.bench
