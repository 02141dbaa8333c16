# The two commands a fresh machine needs: `make demo` and `make test`.
# Both create .venv and install the project with the pinned versions in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean wheel wheel-check

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hubgenome demo $(DEMO_ARGS)

test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory wheel-check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --disable-progress-bar --nocolor dbt/models dbt/tests dbt/macros
	$(BIN)/python scripts/check_layers.py

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/crawl.py

# The wheel users install: hubgenome and everything it runs (dbt project, reference data, pages).
wheel: $(STAMP)
	$(BIN)/python -m build --wheel --outdir dist .
	rm -rf build

# Build the wheel, install it into a fresh virtualenv, use it from an empty folder (see the script).
wheel-check: $(STAMP)
	PYTHON=$(PYTHON) scripts/check_wheel.sh

clean:
	rm -rf $(VENV) dbt/target dbt/logs build dist
