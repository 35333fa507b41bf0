# The README's two commands: `make run` and `make test`. Each creates the virtual environment on first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench scenarios clean deploy-tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run PORT=9000` (and HOST=0.0.0.0) pass through to `actiondesk serve`.
run: $(STAMP)
	$(BIN)/actiondesk serve$(if $(HOST), --host $(HOST))$(if $(PORT), --port $(PORT))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The suite runs on PYTEST_WORKERS processes (pytest-xdist); many tests wait on servers they start, so more
# workers than cores pays. `make test PYTEST_WORKERS=0` runs it in this one process.
PYTEST_WORKERS ?= 3
# The suite's temporary files (its SQLite databases, the servers' homes, browser profiles) go to memory-backed
# /dev/shm when it has 2 GiB free: the tests check behaviour, not the disk's fsync rate, which bench/ measures on
# disk. Elsewhere (no /dev/shm, or a container's small one) they stay in the usual temporary directory.
TEST_TMPDIR ?= $(shell df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 && $$4 > 2097152 { print "/dev/shm" }')

test: lint
	$(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR) )$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

# Each scenario of the folder plays on a database of its own (one's breaker history must not count in the next).
scenarios: $(STAMP)
	$(BIN)/actiondesk scenario run scenarios --summary

deploy-tools:
	bash .ci/deploy-tools

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache actiondesk.db actiondesk.db-wal actiondesk.db-shm
