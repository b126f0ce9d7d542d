# One target per task; CI (.ci/run) runs `make test`, exactly as a developer does.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: generate check lint typecheck test pytest surface contract sandbox demo bench bench-smoke

# A fresh machine needs only python3 and make: the venv is rebuilt whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet -e '.[dev]' && touch $@

generate: $(VENV)/.installed
	$(BIN)/python scripts/generate.py

check: $(VENV)/.installed
	$(BIN)/python scripts/generate.py --check

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

surface: $(VENV)/.installed
	$(BIN)/python scripts/surface.py --write

pytest: $(VENV)/.installed
	$(BIN)/pytest

contract: $(VENV)/.installed
	$(BIN)/python -m scripts.contract

sandbox: $(VENV)/.installed
	$(BIN)/python -m scripts.sandbox

demo: $(VENV)/.installed
	$(BIN)/python -m scripts.demo

bench: $(VENV)/.installed
	$(BIN)/python -m bench.run

bench-smoke: $(VENV)/.installed
	$(BIN)/python -m bench.run --smoke

test: lint typecheck check pytest contract bench-smoke
