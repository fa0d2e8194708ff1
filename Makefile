# Haven: everything runs from a local virtualenv that this Makefile creates.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: install install-test system-deps build serve test test-fast test-slow clean

$(BIN)/haven: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# Browser libraries Haven serves itself (assets/package.json pins them; scripts/vendor_assets.py copies the files served).
VENDOR = server/haven/web/static/vendor/.installed
$(VENDOR): assets/package.json assets/package-lock.json scripts/vendor_assets.py
	npm ci --prefix assets --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null  # errors still show
	$(PYTHON) scripts/vendor_assets.py
	@touch $@

install: $(BIN)/haven $(VENDOR)

# What the tests need beyond Python: Debian packages (a headless browser for the HTML tests, nginx for the replica
# tests, Raptor's rapper for the client conformance tests) and the npm clients in tests/clients (Comunica).
system-deps: tests/clients/node_modules/.installed
	@{ command -v chromium && test -x /usr/sbin/nginx && command -v rapper && command -v wrk && command -v promtool; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium nginx raptor2-utils wrk >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

tests/clients/node_modules/.installed: tests/clients/package.json tests/clients/package-lock.json
	npm ci --prefix tests/clients --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

build: install
	$(BIN)/haven build

serve: install
	$(BIN)/haven serve --host $(HOST) --port $(PORT)

# The whole suite, then the backend acceptance tests again on a throw-away Virtuoso (installed if missing).
test: install system-deps
	$(BIN)/pytest
	$(MAKE) test-virtuoso

# Tiers (tests/plugins/tiers.py): the fast tier is every test without a tier marker (unit and Flask test-client
# tests, in-process); the slow tier is the rest (real server processes, nginx, Oxigraph, Chromium, builds).
FAST_TIER = not live and not browser and not slow
test-fast: install
	$(BIN)/pytest -m "$(FAST_TIER)"

test-slow: install system-deps
	$(BIN)/pytest -m "not ($(FAST_TIER))"

clean:
	rm -rf build .pytest_cache

# Rewrite every recorded (golden) file of the tests from the sources: the VoID recordings of
# tests/resources/metadata/ and the competency questions' expected answers (scripts/regen.py says which and
# how). Run it after changing ontology/ or data/ on purpose, then review `git diff` before committing.
regen: install
	$(BIN)/python scripts/regen.py

# A throw-away Virtuoso (installed from Debian if missing) on free loopback ports: publish the current build
# into it, run the backend tests against it (the Virtuoso cases of every test file that reads
# HAVEN_TEST_VIRTUOSO_URL; VIRTUOSO_PYTEST_ARGS= runs their other backends too), stop it. Writes go as the
# throw-away database's factory account, given explicitly: haven publish never assumes one.
VIRTUOSO_PYTEST_ARGS ?= -k virtuoso
.PHONY: test-virtuoso publish
test-virtuoso: install
	@test -e build/current || $(BIN)/haven build
	@dir=$$(mktemp -d -t haven-virtuoso.XXXXXX); \
	scripts/virtuoso.sh start "$$dir" >/dev/null || exit 1; \
	trap 'scripts/virtuoso.sh stop "'"$$dir"'"' EXIT; \
	. "$$dir/urls.env"; \
	echo "virtuoso at $$VIRTUOSO_SPARQL_URL"; \
	export HAVEN_STORE_USER=dba HAVEN_STORE_PASSWORD=dba; \
	$(BIN)/haven publish --to "$$VIRTUOSO_SPARQL_URL" && \
	HAVEN_TEST_VIRTUOSO_URL="$$VIRTUOSO_SPARQL_URL" $(BIN)/pytest -q $(VIRTUOSO_PYTEST_ARGS) $$(grep -l HAVEN_TEST_VIRTUOSO_URL tests/test_*.py)

# make publish TO=http://127.0.0.1:7878/query [RELEASE=build/releases/<id>] [ARGS="--engine generic ..."]
# An account for the writes comes from HAVEN_STORE_USER and HAVEN_STORE_PASSWORD (or ARGS="--password-file F").
publish: install
	@test -n "$(TO)" || { echo "usage: make publish TO=<SPARQL query endpoint> [RELEASE=dir] [ARGS=...]" >&2; exit 2; }
	$(BIN)/haven publish --to "$(TO)" $(if $(RELEASE),--release "$(RELEASE)") $(ARGS)

# The load test (bench/load.py): the realistic mix at concurrency 64 for 60 s against `haven serve` started on
# a free loopback port over build/current with its default settings, each client from its own loopback
# address; figures and refusals by request kind. make load [ARGS="--duration 10 --url ..."]
.PHONY: load
load: install
	@test -e build/current || $(BIN)/haven build
	$(BIN)/python bench/load.py --concurrency 64 --duration 60 $(ARGS)

# The benchmark (a command, not a test): generated data at each size, every engine side by side; rewrites
# docs/benchmarks.md. Needs wrk (Debian) for the HTTP figures. SIZES=real,10k,100k,1M for more (real: the
# project's own data, the release users query).
SIZES ?= real,10k,100k
.PHONY: bench
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py --sizes $(SIZES)
