# Grid Command: two commands set everything up on a fresh machine.
#   make run   - virtualenv, offline web assets, demo district, demo case store, dashboard
#   make test  - the same set-up plus test dependencies, then the whole pytest suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8501
API_PORT ?= 8502
DEMO   := data/demo
PYTEST_ARGS ?=

.PHONY: run run-cluster test lint setup demo assets seed bench clean

# The intake API (python -m api serve) runs beside the dashboard on API_PORT and stops with it.
run: setup seed
	GRIDCOMMAND_JOBS=1 $(PY) -m api.serve_with --host $(HOST) --port $(API_PORT) -- \
	    $(VENV)/bin/streamlit run dashboard.py --server.address $(HOST) --server.port $(PORT)

# The dashboard scaled out on one machine (deploy/README.md): a local PostGIS (var/cluster/), the demo
# seeded, N Streamlit processes and the API behind nginx on PORT (8080 here unless given); Ctrl-C stops all.
run-cluster: setup
	$(PY) -m deploy.cluster --processes $(or $(N),4) --host $(HOST) \
	    --port $(if $(filter file,$(origin PORT)),8080,$(PORT)) --api-port $(API_PORT)

test: setup $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

# Guard rails: lint (ruff: pycodestyle, pyflakes, isort, naming, bugbear, complexity, numpy
# docstrings), types (mypy), the layer contracts (import-linter), module and function sizes.
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) .ci/check_sizes.py

setup: $(VENV)/.installed assets demo

$(VENV)/.installed: requirements.txt requirements-assets.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check setuptools==80.9.0
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation -r requirements-assets.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

assets: $(VENV)/.installed
	$(PY) -m layers.assets install

demo: $(DEMO)/.built

$(DEMO)/.built: $(VENV)/.installed data/make_demo.py
	$(PY) data/make_demo.py --out $(DEMO)
	$(PY) -m geo build --streets $(DEMO)/streets.shp --communities $(DEMO)/communities.shp \
	    --grids $(DEMO)/grids.shp --buildings $(DEMO)/buildings.shp \
	    --out $(DEMO)/hierarchy.gpkg --report $(DEMO)/report.json
	$(PY) -m geo themes add --hierarchy $(DEMO)/hierarchy.gpkg --theme safety --layer $(DEMO)/theme_safety.shp
	touch $@

seed: setup
	$(PY) -m cases seed-demo

bench: setup $(VENV)/.installed-test
	$(PY) bench/join_bench.py
	$(PY) bench/cases_bench.py
	$(PY) bench/map_bench.py
	$(PY) bench/api_load.py --small
	$(PY) bench/service_circle_bench.py --small

clean:
	rm -rf $(DEMO) data/gridcommand.db data/gridcommand.db-wal data/gridcommand.db-shm static/vendor
