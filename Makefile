# hepgen — two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= all
SMK    := $(BIN)/snakemake

.PHONY: run test lint format report dry-run clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when the package metadata, the pins or the C kernels change. The dependencies are
# byte-compiled at install: where PYTHONDONTWRITEBYTECODE is set, nothing compiled later is kept,
# and every job would compile what it imports again (measured: 30-40 % more job CPU time).
# compileall does it on every core and skips the packages' own test suites, which no job
# imports (a quarter of the files); pip would compile everything on one core (80 CPU s).
# A file that does not compile (a module for a newer Python) is only imported uncompiled.
$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py constraints.txt src/hepgen/_kernels.c
	$(BIN)/python -m pip install --quiet --no-compile -c constraints.txt -e ".[test]"
	$(BIN)/python -m compileall -qq -j 0 -x '/tests?/' $(VENV)/lib || true
	touch $@

run: $(VENV)/.installed
	$(SMK) --cores $(CORES)
	$(SMK) --cores $(CORES) --report results/report.html

dry-run: $(VENV)/.installed
	$(SMK) -n

test: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(SMK) --lint

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt .

lock: $(VENV)/.installed
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf results logs benchmarks .snakemake
