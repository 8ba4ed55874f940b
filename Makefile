# The whole set-up on a fresh machine: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench screenshot lesson-screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[test]'
	touch $@ $(VENV)/.installed-run

# Plotly's bundle at Brotli's best quality (1.11 MB on the wire instead of 1.29): written once into
# .asset-cache (15-45 s), a quick check afterwards.
run: $(VENV)/.installed-run
	$(BIN)/python -m app.web.assets
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m app

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest

# ruff (lint and format) and mypy over the Python (configured in pyproject.toml); Biome over static/js.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check app tests benchmarks scripts
	$(BIN)/ruff format --check app tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/biome check static/js

screenshot: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshot.py

# Every lesson at 1280x720 (presenter mode) and 1920x1080, into docs/lessons/ (not committed).
lesson-screenshots: $(VENV)/.installed-test
	$(BIN)/python scripts/lesson_screenshots.py

bench: $(VENV)/.installed-test
	$(BIN)/python -m app.web.assets
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
