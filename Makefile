# Each target sets itself up: a fresh clone needs only Python 3.11+ (and PostgreSQL for the tests).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

.PHONY: demo test check bench
demo: $(STAMP)  ## start the service with a seeded demo farm on http://127.0.0.1:8000
	$(VENV)/bin/suyuan demo

test: $(STAMP)  ## the whole test suite, PostgreSQL included
	$(VENV)/bin/pytest -q -n auto -m "not lighthouse" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	@# Lighthouse times the page it scores: on a machine of its own, not beside the other tests.
	$(VENV)/bin/pytest -q -m lighthouse $(PYTEST_ARGS) || [ $$? -eq 5 ]

check: $(STAMP)  ## the gates CI runs before the tests: lint and format, types, import layers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)  ## benchmarks; print ratios measured side by side
	$(VENV)/bin/python -m bench.append_http
	$(VENV)/bin/python -m bench.verify_log
	$(VENV)/bin/python -m bench.proof_latency
	$(VENV)/bin/python -m bench.photo_ingest
	$(VENV)/bin/python -m bench.public_page
	$(VENV)/bin/python -m bench.monitor_incremental
	$(VENV)/bin/python -m bench.cosign_latency
