SHELL := /bin/bash
# Two commands do all set-up on a fresh machine with Python 3.11 and make:
#   make report   -> .venv, install, sample data if missing, report batch -> reports/
#   make test     -> same set-up, then the whole test suite (notebooks included)
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLE := data/sample/truth.json
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: setup sample report test lab bench lint clean-sample test-deps

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_QUIET) --upgrade pip
	$(BIN)/python -m pip install $(PIP_QUIET) -e '.[dev]'
	$(BIN)/python -c "import cxlib, pandas, statsmodels, papermill, pyfixest, pandera, duckdb"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (cx)" >/dev/null
	touch $(STAMP)

sample: $(SAMPLE)

$(SAMPLE): $(STAMP) $(wildcard cxlib/data/synth*.py cxlib/data/synth/*.py) data/touchpoints/retail.yml
	$(BIN)/cx synth --size small --seed 1 --out data/sample

report: $(SAMPLE)
	$(BIN)/python -m compileall -q cxlib  # every worker and kernel would compile it again
	$(BIN)/cx run batches/default.yml

test: $(SAMPLE) test-deps
	$(BIN)/python -m pytest

test-deps: $(STAMP)
	bash scripts/install_test_deps.sh

lab: $(SAMPLE)
	$(BIN)/python -m ipykernel install --user --name cx --display-name "cx (project .venv)" >/dev/null
	$(BIN)/jupyter lab notebooks/

bench: $(SAMPLE)
	$(BIN)/python -m compileall -q cxlib  # byte-code on disk even with PYTHONDONTWRITEBYTECODE
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check cxlib tests benchmarks
	$(BIN)/lint-imports

clean-sample:
	rm -rf data/sample
