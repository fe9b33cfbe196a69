# make demo: set up .venv and run the main job (celm eval) on its defaults: the built-in chat model
# Qwen2.5-Coder-0.5B-Instruct (extra chat-small), a sample of celm-bench, the built-in judge.
# make test: set up .venv and run the whole test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned in the same install as everything else so pip takes the CPU wheel and not CUDA.
TORCH := torch==2.13.0
STAMP := $(VENV)/.celm-installed
LF_VENV := .venv-lf

.PHONY: setup demo test bench llamafactory-venv clean

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)" -e ".[dev,train,server,scale,chat-small,ct2]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/celm eval

test: setup
	$(PY) -m pytest -q

# LLaMA-Factory pins trl<=0.24, so it gets a venv of its own; the export test uses it when present.
# It pulls CUDA builds of torchvision/torchaudio that cannot load next to the CPU torch: removed.
$(LF_VENV)/.installed:
	python3 -m venv $(LF_VENV)
	$(LF_VENV)/bin/pip install -q "$(TORCH)" llamafactory
	$(LF_VENV)/bin/pip uninstall -y -q torchvision torchaudio
	touch $@

llamafactory-venv: $(LF_VENV)/.installed

clean:
	rm -rf $(VENV) $(LF_VENV) runs .pytest_cache
