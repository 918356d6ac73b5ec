# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# Both set up the pinned environment (uv.lock) first.
PYTHON ?= python3.11
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: setup demo test test-fast lint typecheck wheel-check preview serve clean

# Bytecode is compiled at install, as pip does and uv does not by default: where
# PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile GX, pandas and
# Prefect from source each time it starts (measured: imports twice as slow).
setup:
	@test -x "$(UV)" || $(PYTHON) -m pip install --quiet --user uv
	@$(UV) sync --locked --python $(PYTHON) --quiet --compile-bytecode

demo: setup
	$(UV) run datasummary demo

test: setup
	$(UV) run pytest -n auto

# Unit and component tests only: no end-to-end (CLI subprocesses), LibreOffice, PostgreSQL,
# Prefect-server or slow tests.
test-fast: setup
	$(UV) run pytest -n auto -m "not e2e and not office and not postgres and not prefect and not slow"

# Style, formatting, the import rules between stages, sizes (modules, functions), and types.
lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports
	$(UV) run python scripts/sizes.py
	$(UV) run mypy

typecheck: setup
	$(UV) run mypy

# The wheel installs and works without the source tree (spec, suites, template as package data).
wheel-check: setup
	./scripts/wheel_check.sh

preview: setup
	$(UV) run python -m transforms.reports.preview output/demo/output

serve: setup
	./scripts/serve.sh

clean:
	rm -rf output/demo .pytest_cache .ruff_cache .mypy_cache dist
