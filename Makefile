# One target per task; CI (.ci/run) runs `make test`, exactly as a developer does.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8765

.PHONY: generate check lint spec-lint typecheck test pytest matrix release-check example-tests breaking surface contract sandbox demo bench bench-smoke spec-bundle

# A fresh machine needs only python3 and make: the venv is rebuilt whenever pyproject.toml changes. pip installs
# uv at the version the dev extra pins; uv installs the rest, from the indexes pip is configured with
# (scripts/uv_settings.py).
UV_PIN = $(shell sed -n 's/^ *"\(uv==[^"]*\)".*/\1/p' pyproject.toml)
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet '$(UV_PIN)' \
	  && $(BIN)/python -m scripts.uv_settings $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]' \
	  && touch $@

# Spectral (openapi.yaml's linter) comes from npm, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@

generate: $(VENV)/.installed
	$(BIN)/python -m scripts.generate

check: $(VENV)/.installed
	$(BIN)/python -m scripts.generate --check

# deptry: every import of the shipped package is a declared dependency or extra.
lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/deptry client

spec-lint: node_modules/.installed
	npx --no-install spectral lint --fail-severity=hint openapi.yaml

typecheck: $(VENV)/.installed
	$(BIN)/mypy

surface: $(VENV)/.installed
	$(BIN)/python scripts/surface.py --write

# The whole suite in the dev venv; make pytest PYTEST_ARGS='-m tooling' runs what `make test` runs once.
pytest: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

# CPython 3.11-3.13 x lowest/newest dependencies (noxfile.py); one Python: make matrix NOX_ARGS='-s tests-3.12'
matrix: $(VENV)/.installed
	$(BIN)/nox --no-error-on-missing-interpreters $(NOX_ARGS)

release-check: $(VENV)/.installed
	$(BIN)/python -m scripts.release

example-tests: $(VENV)/.installed
	$(BIN)/python -m scripts.example_tests $(EXAMPLE_ARGS)

contract: $(VENV)/.installed
	$(BIN)/python -m scripts.contract $(CONTRACT_ARGS)

# make sandbox [PORT=8765] [WEBHOOK_URL=http://...] [FAULTS=1]
sandbox: $(VENV)/.installed
	$(BIN)/python -m scripts.sandbox --port $(PORT) $(if $(WEBHOOK_URL),--webhook-url '$(WEBHOOK_URL)') $(if $(FAULTS),--faults)

demo: $(VENV)/.installed
	$(BIN)/python -m scripts.demo

bench: $(VENV)/.installed
	$(BIN)/python -m bench.run

bench-smoke: $(VENV)/.installed
	$(BIN)/python -m bench.run --smoke

# openapi.yaml without its webhooks, for tools that cannot read OpenAPI 3.1 webhooks: build/openapi-without-webhooks.yaml
spec-bundle: $(VENV)/.installed ; $(BIN)/python -m scripts.spec_bundle

# Every change since BASE (default: the latest v* tag, else HEAD), classified; fails on an unversioned break.
breaking: $(VENV)/.installed
	$(BIN)/python -m scripts.breaking $(if $(BASE),--base $(BASE))

# Every suite (scripts/ci.py), ending with one line: N passed, N failed.
# The two installs are independent: they run side by side.
test:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed node_modules/.installed
	$(BIN)/python -m scripts.ci
