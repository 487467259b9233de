# The Makefile bootstraps its own virtualenv: `make demo` and `make test` work on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
AXE_VERSION := 4.11.0
AXE := .axe/installed-$(AXE_VERSION)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install test-install demo test test-fast readme lint clean

# What the service needs, and nothing else: no test tools, no npm (a municipal server has no use for them)
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: a bare torch requirement pulls gigabytes of CUDA
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

# The test tools (pytest, Playwright, ruff, cog ...) on top, for `make test`, `make lint`, `make readme`
$(BIN)/.test-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# axe-core (npm), injected into Chromium by the browser tests' accessibility check
$(AXE):
	npm install --prefix .axe --no-save --no-audit --no-fund axe-core@$(AXE_VERSION)
	touch $@

install: $(BIN)/.installed

test-install: $(BIN)/.test-installed $(AXE)

PORT ?= 8001

demo: install
	$(BIN)/kb validate --root .
	$(BIN)/kb index --root .
	@echo
	@echo "The example knowledge base is indexed. In another terminal, try:"
	@echo "  $(BIN)/kb search \"upphandling av laddplatser\""
	@echo "  $(BIN)/kb search \"grid capacity for heat pumps\" --area bygg"
	@echo "  $(BIN)/kb similar mob-01-laddhubb-eon-tidig-dialog --other-areas"
	@echo "  $(BIN)/kb synergies"
	@echo "The pages print a writer's and a facilitator's sign-in for this run only (--demo-accounts)."
	@echo
	$(BIN)/kb serve --root . --port $(PORT) --demo-accounts

test: test-install
	$(BIN)/python -m pytest -q

lint: $(BIN)/.test-installed
	$(BIN)/ruff check kb indexer search analysis reports datasette_plugins tests bench
	$(BIN)/lint-imports  # the floors contract in pyproject.toml

test-fast: test-install
	$(BIN)/python -m pytest -q -m "not slow and not model and not browser"

# The example outputs in README.md, from the commands themselves (tests/readme_examples.py)
readme: $(BIN)/.test-installed
	$(BIN)/cog -r README.md

clean:
	rm -rf .kb .pytest_cache .axe
