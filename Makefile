# The README's two commands: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench setup

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit("rostersync needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

run: setup
	$(BIN)/python -m scripts.run_local

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

bench: setup $(VENV)/.bench-installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)
