# Haven: everything runs from a local virtualenv that this Makefile creates.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: install install-test system-deps build serve test test-fast clean

$(BIN)/haven: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/haven

# Debian packages the tests need (a headless browser for the HTML tests).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

build: install
	$(BIN)/haven build

serve: install
	$(BIN)/haven serve --host $(HOST) --port $(PORT)

test: install system-deps
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow and not browser"

clean:
	rm -rf build .pytest_cache
