# Two commands do all set-up on a fresh machine:
#   make run    create .venv, install CPU torch 2.13.0 and clirlens, start the application
#   make test   the same plus dev extras and the offline test models, then the whole suite
# ARGS="..." passes arguments to clirlens, e.g. make run ARGS="--xquad ~/xquad --model me5-small"

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SHARED ?= ../shared
export CLIRLENS_TEST_MODELS ?= $(HOME)/.cache/clirlens-test-models
# the XQuAD release beside the repository, when it is there (tests skip without it)
ifneq ($(wildcard $(SHARED)/data/xquad/xquad.en.json),)
export CLIRLENS_XQUAD ?= $(abspath $(SHARED)/data/xquad)
endif

.PHONY: run test lint bench screenshots test-models clean-venv

$(VENV)/.base:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU torch first: a bare or open-ended torch requirement would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	touch $@

$(VENV)/.app: $(VENV)/.base pyproject.toml setup.py
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.app
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: $(VENV)/.app
	$(VENV)/bin/clirlens $(ARGS)

test-models: $(VENV)/.base
	@if [ -x $(SHARED)/tools/test-models ]; then \
	  PYTHON=$(abspath $(PY)) $(SHARED)/tools/test-models $(CLIRLENS_TEST_MODELS); \
	else echo "no $(SHARED)/tools/test-models: tests needing real models will skip"; fi

test: $(VENV)/.dev test-models
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q tests/test_architecture.py

bench: $(VENV)/.dev test-models
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

screenshots: $(VENV)/.dev test-models
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_screenshots.py

clean-venv:
	rm -rf $(VENV)
