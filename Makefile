# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make demo   — create .venv, install zeropark, solve the bundled demo park (full year, hourly)
#   make test   — create .venv, install zeropark with test extras, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/zeropark: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(BIN)/zeropark

demo: $(BIN)/zeropark
	$(BIN)/zeropark run scenarios/demo-park.yaml -o out/demo

test: $(BIN)/zeropark
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(BIN)/zeropark
	$(BIN)/ruff check src tests benchmarks

bench: $(BIN)/zeropark
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out
