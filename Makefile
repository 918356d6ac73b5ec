# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# Both set up the pinned environment (uv.lock) first.
PYTHON ?= python3.11
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: setup demo test lint preview serve clean

setup:
	@test -x "$(UV)" || $(PYTHON) -m pip install --quiet --user uv
	@$(UV) sync --locked --python $(PYTHON) --quiet

demo: setup
	$(UV) run datasummary demo

test: setup
	$(UV) run pytest -n auto

lint: setup
	$(UV) run ruff check .

preview: setup
	$(UV) run python -m transforms.reports.preview output/demo/output

serve: setup
	./scripts/serve.sh

clean:
	rm -rf output/demo .pytest_cache .ruff_cache
