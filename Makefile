# Two commands matter: `make run` and `make test`. Both set up what they need first,
# idempotently: the venv is rebuilt only when pyproject.toml changes, node_modules only
# when package-lock.json changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test setup lint test-python test-convex screenshots bench deploy codegen check-codegen clean

# Bytecode first: where PYTHONDONTWRITEBYTECODE is set (as on the CI machines), Python would
# otherwise recompile Jangar's own modules on every start (~35 ms of a 0.5 s start-up budget).
run: setup
	$(PY) -m compileall -q jangar_tui
	$(VENV)/bin/jangar

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: setup lint check-codegen test-convex test-python

# The static gate, first because it takes seconds: format, lint, types (strict, on the app), and
# the layer contracts. Configuration is in pyproject.toml.
lint: $(PY_STAMP)
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

test-convex: $(NODE_STAMP)
	npx vitest run

# pytest exits 5 when it collected nothing; make treats that as a failure, as it should.
test-python: $(PY_STAMP)
	$(PY) -m pytest

codegen: $(PY_STAMP) $(NODE_STAMP)
	$(PY) scripts/convex_codegen.py

check-codegen: $(PY_STAMP) $(NODE_STAMP)
	$(PY) scripts/convex_codegen.py --check

screenshots: setup
	$(PY) scripts/screenshots.py

bench: setup
	$(PY) bench/run_all.py

deploy: setup
	$(VENV)/bin/jangar deploy

clean:
	rm -rf $(VENV) node_modules
