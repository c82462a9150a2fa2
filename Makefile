# One-command set-up on a machine with Python 3.11+, Java 17+ and Maven (no Docker needed).
#   make run    install, then broker + schema registry + worker (with the simulated services) in the foreground
#   make test   install, then lint, type-check and the whole test suite on a real broker
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install run test lint unit integration bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -c 'import sys; from streams.devstack.jars import main; sys.exit(main())'
	touch $(STAMP)

install: $(STAMP)

# The simulated payment, inventory and shipping services run in the worker unless the caller says otherwise
# (STREAMS_SIMULATED_SERVICES=false make run: real services answer on payments, inventory and shipping).
run: install
	STREAMS_SIMULATED_SERVICES=$${STREAMS_SIMULATED_SERVICES:-true} $(BIN)/streams dev

lint: install
	$(BIN)/ruff check streams agents tests bench
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

integration: install
	$(BIN)/pytest tests/integration -q

# Two processes (pytest-xdist), each file whole on one of them, each process with its own broker and registry:
# most of the suite waits on Kafka (rebalances, session timeouts, kills), not on the CPU.
test: lint
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: install
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) .streams .pytest_cache .mypy_cache .ruff_cache
