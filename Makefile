# conflict-trends: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STUDY ?= studies/demo.yaml
QUARTER ?=
export OPENBLAS_NUM_THREADS ?= 1
export MPLBACKEND := Agg

.DEFAULT_GOAL := help
.PHONY: help install report real demo-data test lint format bench quarterly clean wheel

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@# an editable install leaves the package uncompiled, and with PYTHONDONTWRITEBYTECODE set
	@# every process (each batch's fork server too) would compile it again on import
	$(BIN)/python -m compileall -q analysis
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with dev tools

demo-data: $(STAMP) ## Write the synthetic demo events to data/raw/demo/
	$(BIN)/python -m analysis.simulate data/raw/demo

report: demo-data ## Render the demo study's reports (focus, neighbours, overview, methods) into reports/
	$(BIN)/conflict-trends batch $(STUDY) --out reports

REAL_STUDY := studies/jnim_sahel_ucdp.yaml
REAL_CSV := data/raw/GEDEvent_v21_1.csv

$(REAL_CSV): | $(STAMP)
	set -o pipefail; $(BIN)/conflict-trends fetch ucdp --version 21.1 --out data/raw \
		| $(BIN)/python -c "$$NAME_CSV" $(REAL_CSV)

# `fetch` unpacks the archive's CSV under the member's own name; the study reads REAL_CSV
define NAME_CSV
import json, os, sys
unpacked = json.load(sys.stdin)["csv"]
if os.path.abspath(unpacked) != os.path.abspath(sys.argv[1]):
    os.replace(unpacked, sys.argv[1])
endef
export NAME_CSV

# The study reads CONFLICT_TRENDS_REAL_DATA when set, else the official GED 21.1 CSV in data/raw/.
real: $(STAMP) $(if $(CONFLICT_TRENDS_REAL_DATA),,$(REAL_CSV)) ## Real-data study (UCDP GED 21.1, JNIM in central Mali): fetch if missing, render into reports/
	$(BIN)/conflict-trends batch $(REAL_STUDY) --out reports

wheel: $(STAMP) ## Build the wheel into dist/
	$(BIN)/python -m build --wheel --outdir dist .

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check analysis tests benchmarks
	$(BIN)/ruff format --check analysis tests benchmarks

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix analysis tests benchmarks
	$(BIN)/ruff format analysis tests benchmarks

test: lint ## Lint, then run the whole test suite
	$(BIN)/pytest -q -p no:cacheprovider -n auto --dist loadfile

bench: $(STAMP) ## Run the speed benchmarks, each against a peer in the same run (prints JSON)
	$(BIN)/python benchmarks/backtest_speed.py --repeats 3
	$(BIN)/python benchmarks/ingest.py --rows 500000 --repeats 3
	$(BIN)/python benchmarks/batch.py --reports 20 --repeats 3
	@echo "Statistical benchmarks (coverage, real-data backtests) take their own arguments:"
	@echo "see each script's docstring in benchmarks/."

quarterly: demo-data ## Render every study's reports for QUARTER=YYYYQn
	$(BIN)/conflict-trends batch studies/*.yaml $(if $(QUARTER),--quarter $(QUARTER)) --out reports/quarterly

clean: ## Remove generated reports and processed data (never data/raw)
	rm -rf reports/* data/processed/* && touch reports/.gitkeep data/processed/.gitkeep
