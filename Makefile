# Two commands for a newcomer: `make demo` and `make test`. Both create .venv on first use.
# `make e2e` runs a real multi-process Airflow on loopback (about 5.5 min). `make matrix` runs the
# suite on Airflow 3.2.2 / Python 3.12 (about 15 min), 3.3.2 / 3.11 (5 min) and 3.3.2 / 3.13 (6 min):
# every leg passes, and CI runs it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo e2e matrix lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[test,bench]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage report --skip-covered --fail-under=90

test: lint typecheck pytest

# make demo DEMO_ARGS=--serve keeps the emulator serving afterwards, for its incident pages.
DEMO_ARGS ?=

demo: $(STAMP)
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

e2e: $(STAMP)
	$(BIN)/python -m e2e

matrix: $(STAMP)
	$(BIN)/python -m e2e.matrix

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .venv-3.* .demo .e2e build *.egg-info
