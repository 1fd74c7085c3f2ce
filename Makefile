# `make run` sets everything up and opens the app; `make test` sets everything up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test train-notebook bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,onnx]'
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/lstm-desktop

# The core again on the pure-torch fallback (no C kernel), and the core and CLI again with torch
# on 16 threads: a many-core machine's code paths (the split step), reproduced on 2 cores.
test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q
	LSTM_DESKTOP_NO_KERNEL=1 QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/core
	LSTM_DESKTOP_TEST_THREADS=16 QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/core tests/cli

clean:
	rm -rf $(VENV) build dist *.egg-info
