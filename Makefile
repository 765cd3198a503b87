# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first, each
# with what it needs: `make demo` the runtime and the optional fast kernels (.[fast], a small
# download); `make test` the dev extra (torch, onnxruntime, gensim, ...: large). Each install has
# its own stamp, redone when pyproject.toml changes, so `make test` after `make demo` upgrades
# the same venv and `make demo` after `make test` installs nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-fast
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: setup setup-runtime demo test lint browser docs bench clean
.NOTPARALLEL:  # two pip installs must never run at once in the same venv

setup: $(DEV_STAMP)

setup-runtime: $(RUNTIME_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[fast]"
	touch $@

# dev holds fast too, so this install also satisfies the runtime stamp.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[fast,dev]"
	touch $@ $(RUNTIME_STAMP)

# The main job: the deep MLP of `sinapsi demo`, then a convnet on the same digits (about 10 s),
# whose report shows the feature hierarchy (filters, feature maps, the patterns each layer finds).
demo: $(RUNTIME_STAMP)
	$(BIN)/python -m sinapsi demo
	$(BIN)/python -m sinapsi train examples/digits_convnet.toml

lint: setup
	$(BIN)/ruff check src tests benchmarks

# The playground's browser tests drive Debian's Chromium through Playwright (never
# `playwright install`, which downloads a browser): install the package when it is missing.
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -qq chromium || \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }; }

test: setup lint browser
	$(BIN)/python -m pytest -q
	$(build-docs)

# The documentation site, built offline from scratch with warnings as errors: the pages, the API
# reference from the docstrings, and the notes' examples (examples/notes/), which run during the
# build (about a minute on 2 cores). The grep fails the build if a page loads a script or a
# style from the network. Open docs/_build/html/index.html.
DOCS_OUT := docs/_build/html
define build-docs
rm -rf docs/_build docs/auto_notes docs/api
MPLBACKEND=Agg $(BIN)/python -m sphinx -b html -W --keep-going -j 1 -q \
  -d docs/_build/doctrees docs $(DOCS_OUT)
@! grep -rlE '<(script|link)[^>]*(src|href)="(https?:)?//' --include='*.html' $(DOCS_OUT) \
  || { echo "make docs: the pages above load files from the network"; exit 1; }
@echo "the documentation: $(DOCS_OUT)/index.html"
endef

docs: setup
	$(build-docs)

# Results go to benchmarks/results/ (git-ignored); each script also prints its table.
BENCH_OUT ?= benchmarks/results

bench: setup
	mkdir -p $(BENCH_OUT)
	$(BIN)/python benchmarks/mlp.py --json $(BENCH_OUT)/mlp.json
	$(BIN)/python benchmarks/inference.py --json $(BENCH_OUT)/inference.json
	$(BIN)/python benchmarks/ops.py --json $(BENCH_OUT)/ops.json
	$(BIN)/python benchmarks/conv.py --json $(BENCH_OUT)/conv.json
	$(BIN)/python benchmarks/distributed.py --json $(BENCH_OUT)/distributed.json
	$(BIN)/python benchmarks/word2vec.py --json $(BENCH_OUT)/word2vec.json

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis \
	  docs/_build docs/auto_notes docs/api

# The word2vec benchmark's large corpus: installs Debian's linux-doc-6.1 and python3.11-doc
# (apt-get, as root or through sudo) and writes the corpus files to $(BENCH_OUT)/word2vec-data
# (never needed by the tests).
.PHONY: bench-word2vec-corpus
bench-word2vec-corpus: setup
	$(BIN)/python benchmarks/word2vec.py --setup --data-dir $(BENCH_OUT)/word2vec-data
