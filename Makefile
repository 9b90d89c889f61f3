# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make demo   — create .venv, install zeropark, solve the bundled demo park (full year, hourly)
#   make test   — create .venv, install zeropark with test extras, type-check src, run the whole test suite
#   make test-min — the same in .venv-min with the lowest supported versions (constraints-min.txt)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
VENV_MIN := .venv-min
PYTEST_ARGS ?=

.PHONY: demo test test-min lint bench clean

# pip prints each package as it is collected and installed, so a fresh install is never silent
$(BIN)/zeropark: pyproject.toml
	@echo "== creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar off --upgrade pip
	@echo "== installing zeropark and its test tools into $(VENV) (pip lists each package)"
	$(BIN)/python -m pip install --progress-bar off -e ".[dev]"
	touch $(BIN)/zeropark
	@echo "== $(VENV) ready"

demo: $(BIN)/zeropark
	@echo "== solving the demo park (a full year, hourly)"
	$(BIN)/zeropark run scenarios/demo-park.yaml -o out/demo

test: $(BIN)/zeropark
	@echo "== type-checking src with mypy (settings in pyproject.toml)"
	$(BIN)/python -m mypy src
	@echo "== running the test suite (one dot per test)"
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# the lower bounds of pyproject.toml, kept honest: a separate venv pinned to constraints-min.txt
test-min:
	@echo "== creating $(VENV_MIN) with the lowest supported versions (constraints-min.txt)"
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --progress-bar off --upgrade pip
	$(VENV_MIN)/bin/python -m pip install --progress-bar off -c constraints-min.txt -e ".[excel]" pytest hypothesis
	@echo "== running the test suite against the lowest supported versions"
	$(VENV_MIN)/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(BIN)/zeropark
	$(BIN)/ruff check src tests benchmarks

bench: $(BIN)/zeropark
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(VENV_MIN) out
