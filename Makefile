# The two commands a user needs: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Rust extensions built with cargo: the processor's Ed25519 batch verifier, the codec's
# Avro reader and writer.
ED25519 := producers/ed25519_batch
AVRO   := schemas/avro_native

.PHONY: setup up down demo test lint unit integration tools faults chaos

$(STAMP): pyproject.toml $(foreach crate,$(ED25519) $(AVRO),$(crate)/pyproject.toml $(crate)/Cargo.toml $(crate)/Cargo.lock $(crate)/src/lib.rs)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "credstream needs Python 3.11 or newer")'
	@command -v cargo >/dev/null || { echo "credstream needs Rust 1.78+ with cargo to build $(ED25519) and $(AVRO) (https://rustup.rs)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q ./$(ED25519) ./$(AVRO)
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Debian's prometheus + promtool (alert rule tests, the scrape test); a no-op once installed.
tools:
	sh deploy/prometheus/install.sh

up: setup
	$(BIN)/credstream dev up

down:
	$(BIN)/credstream dev down

demo: up
	$(BIN)/credstream demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd $(ED25519) && cargo fmt --check
	cd $(AVRO) && cargo fmt --check

unit: setup tools
	$(BIN)/pytest -q tests/unit

integration: up tools
	$(BIN)/pytest -q tests/integration

# Lint and types first (fast), then unit and integration tests, then the short version
# of every fault scenario (deploy/RELIABILITY.md).
test: lint up tools
	$(BIN)/pytest -q -p no:cacheprovider tests/unit tests/integration tests/system

# The short fault scenarios alone (about 8 minutes; also part of `make test`).
faults: lint up
	$(BIN)/pytest -q -p no:cacheprovider tests/system

# Every fault scenario at full size (deploy/RELIABILITY.md; over an hour on two cores):
# one line per scenario with its figures, then a JSON summary, also in results/chaos.json.
chaos: lint up
	CREDSTREAM_CHAOS=full CREDSTREAM_CHAOS_REPORT=results/chaos.json \
		$(BIN)/pytest -q -p no:cacheprovider tests/system
