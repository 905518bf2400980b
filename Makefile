# Two entry points for a new machine (see README):
#   make run   set up, then harvest every configured author once (SQLite by default)
#   make test  set up, then lint, type-check and run the whole suite (SQLite and PostgreSQL)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check pytest setup demo postgres systemd-analyze chromium clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/harvest --once

demo: $(STAMP)
	$(BIN)/harvest demo

postgres:
	@scripts/ensure-postgres

systemd-analyze:
	@scripts/ensure-systemd-analyze

chromium:
	@scripts/ensure-chromium

check: $(STAMP)
	$(BIN)/ruff check harvester arxiv_lookalike tests scripts
	$(BIN)/mypy

# Two processes: each test has its own SQLite file or PostgreSQL schema. The slowest tests
# are listed at the end, so that a run that grows past ten minutes says where the time went.
pytest: $(STAMP) postgres systemd-analyze chromium
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist worksteal --durations=25

test: check pytest

clean:
	rm -rf $(VENV) build *.egg-info
