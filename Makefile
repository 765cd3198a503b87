# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/python -m sinapsi demo

lint: setup
	$(BIN)/ruff check src tests benchmarks

test: setup lint
	$(BIN)/python -m pytest -q

# Results go to benchmarks/results/ (git-ignored); each script also prints its table.
BENCH_OUT ?= benchmarks/results

bench: setup
	mkdir -p $(BENCH_OUT)
	$(BIN)/python benchmarks/mlp.py --json $(BENCH_OUT)/mlp.json
	$(BIN)/python benchmarks/inference.py --json $(BENCH_OUT)/inference.json
	$(BIN)/python benchmarks/ops.py --json $(BENCH_OUT)/ops.json
	$(BIN)/python benchmarks/word2vec.py --json $(BENCH_OUT)/word2vec.json

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
