# One target per task; CI (.ci/run) runs `make test`, exactly as a developer does.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: generate check lint spec-lint typecheck test pytest surface contract sandbox demo bench bench-smoke breaking

# A fresh machine needs only python3 and make: the venv is rebuilt whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet -e '.[dev]' && touch $@

# Spectral (openapi.yaml's linter) comes from npm, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@

generate: $(VENV)/.installed
	$(BIN)/python -m scripts.generate

check: $(VENV)/.installed
	$(BIN)/python -m scripts.generate --check

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

spec-lint: node_modules/.installed
	npx --no-install spectral lint --fail-severity=hint openapi.yaml

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

# Every change since BASE (default: the latest v* tag, else HEAD), classified; fails on an unversioned break.
breaking: $(VENV)/.installed
	$(BIN)/python -m scripts.breaking $(if $(BASE),--base $(BASE))

test: lint spec-lint typecheck check pytest contract bench-smoke breaking
