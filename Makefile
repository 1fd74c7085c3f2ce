# `make run` sets everything up and opens the app; `make test` sets everything up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test train-notebook bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/lstm-desktop

# Twice for the core: once on the C kernel's fast path, once on the pure-torch fallback.
test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q
	LSTM_DESKTOP_NO_KERNEL=1 QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/core

clean:
	rm -rf $(VENV) build dist *.egg-info
