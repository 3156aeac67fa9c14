# Timbre Studio: two-command setup. `make studio` opens the studio, `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
TEXT ?= The quick brown fox jumps over the lazy dog.
OUT ?= out/say.wav
ARGS ?=

.PHONY: setup studio test say bench lint clean

setup:
	@scripts/setup.sh

studio: setup
	$(VENV)/bin/timbre studio $(ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(ARGS)

say: setup
	@mkdir -p $(dir $(OUT))
	$(VENV)/bin/timbre say "$(TEXT)" -o $(OUT) $(ARGS)

bench: setup
	$(PY) -m engine.bench $(ARGS)
	QT_QPA_PLATFORM=offscreen $(PY) -m studio.bench

lint: setup
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) out .pytest_cache build dist *.egg-info
