# Two commands for a fresh machine (Python 3.11, Debian):
#   make app    set up, build the synthetic demo and its embeddings/map, run the explorer on it
#   make test   set up (with the test tools and a browser), run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DB ?= data/demo.duckdb
PORT ?= 8501

WORKSHOP_DB ?= $(DEMO_DB)

.PHONY: app setup setup-dev browser demo workshop deploy-check test test-fast lint bench mutate clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev browser

# Debian's chromium for the end-to-end tests (Playwright never downloads its own browser here).
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	elif [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-core >/dev/null; \
	else echo "Install Debian's browser first: sudo apt-get update && sudo apt-get install -y chromium chromium-driver fonts-noto-core"; exit 1; fi

# The demo database and everything the values map needs (analysis/pipeline/steps.py); each step reuses what is stored.
# Then the preference models of the Preferences page (seconds on the demo; reused when already stored).
demo: setup
	@[ -f $(DEMO_DB) ] || $(PY) -m analysis demo --db $(DEMO_DB)
	$(PY) -m analysis prepare --db $(DEMO_DB)
	$(PY) -m analysis prefs --db $(DEMO_DB) > /dev/null

app: demo
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

# Facilitator mode: serve the explorer to the room on the local network, with the address and its QR code shown in
# the app. The database is the facilitator's choice: make workshop WORKSHOP_DB=data/community_alignment.duckdb
# (the demo, prepared, by default). No internet is needed.
workshop: setup
	@if [ "$(WORKSHOP_DB)" = "$(DEMO_DB)" ]; then $(MAKE) --no-print-directory demo; fi
	$(PY) -m analysis workshop --db $(WORKSHOP_DB) --port $(PORT)

# Streamlit Community Cloud's path, checked here: a fresh venv from requirements.txt alone, `streamlit run app.py`
# under a 2.7 GB memory cap, every page visited in headless Chromium (bench/deploy_check.py; minutes).
deploy-check: setup-dev
	$(PY) bench/deploy_check.py

test: setup-dev lint
	$(PY) -m pytest -q

# The linter, the formatter (check only) and the import contracts in .importlinter.
lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

test-fast: setup-dev
	$(PY) -m pytest -q -m "not e2e"

bench: setup-dev
	$(PY) bench/bench_ingest.py
	@for b in bench/bench_*.py; do case $$b in bench/bench_ingest.py|bench/bench_mutation.py) ;; *) $(PY) $$b;; esac; done

# Mutation testing (cosmic-ray) of the modules whose bugs would mislead a user; slow, so not part of `make test`.
mutate: setup-dev
	$(PY) bench/bench_mutation.py

clean:
	rm -rf data/*.duckdb data/*.csv bench/out tests/e2e/screenshots .pytest_cache
