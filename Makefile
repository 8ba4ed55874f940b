# The whole set-up on a fresh machine: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test bench screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m app

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

screenshot: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshot.py

bench: $(VENV)/.installed-test
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
