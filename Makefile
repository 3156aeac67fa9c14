# Timbre Studio: two-command setup. `make studio` opens the studio, `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
TEXT ?= The quick brown fox jumps over the lazy dog.
OUT ?= out/say.wav
ARGS ?=

.PHONY: setup studio test say bench lint package package-deps package-test clean

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

# What people install: wheel + sdist, and the frozen app (PyInstaller) packed as a tarball, in dist/.
package: setup package-deps
	nice -n 10 $(PY) packaging/build_app.py $(ARGS)

package-deps:
	@$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install -q --disable-pip-version-check "setuptools>=77,<81" -e ".[test,package]"

# Unpack / install the built artifacts in fresh places and use them headless (builds them when missing).
package-test: setup
	@ls dist/timbre-studio-*.tar.gz dist/timbre_studio-*.whl >/dev/null 2>&1 || $(MAKE) package
	$(PY) packaging/smoke_test.py $(ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache build dist *.egg-info
