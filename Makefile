# make demo: set up .venv and run the main job (celm eval) on its embedded defaults.
# make test: set up .venv and run the whole test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned in the same install as everything else so pip takes the CPU wheel and not CUDA.
TORCH := torch==2.13.0
STAMP := $(VENV)/.celm-installed

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)" -e ".[dev,train,server]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/celm eval

test: setup
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
