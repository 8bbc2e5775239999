# The README's two commands: `make run` and `make test`. Both set up .venv first; `make run`
# installs only what the app runs on, `make test` adds the test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench setup coverage

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit("rostersync needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

run: setup
	$(BIN)/python -m scripts.run_local

# Test processes side by side (pytest-xdist); each has its own PostgreSQL database, Redis keys,
# simulator and browser. One more than the CPUs: many tests spend their time waiting on worker
# processes, a browser or a fault's delay, and the extra process keeps the CPUs busy meanwhile
# (on 2 cores, minutes apart: 460 s with 3, 567 s with 2). TEST_WORKERS=0: one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')

# Every process the suite starts (pytest's workers, RQ workers, the clock, gunicorn, `flask`
# commands, the simulator) imports the project's modules: compiled once here, none compiles them
# again, even where PYTHONDONTWRITEBYTECODE keeps Python from caching what it compiles (about
# 0.3 s a process).
PROJECT_SOURCES := webapp jobs harness microsoft_simulator scripts tests bench wsgi.py

test: setup $(VENV)/.test-installed
	$(BIN)/python -m compileall -q $(PROJECT_SOURCES)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The suite under coverage.py (line and branch, worker and clock processes included).
coverage: setup $(VENV)/.test-installed
	$(BIN)/python -m coverage erase
	$(BIN)/python -m coverage run -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)
	$(BIN)/python -m coverage combine -q
	$(BIN)/python -m coverage report --skip-covered --sort=cover

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

bench: setup $(VENV)/.bench-installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)
