"""The model every command starts from when none is named: one place for each default.

The chat default is what ``celm eval`` / ``generate`` / ``make demo`` run (a real instruct model,
extra chat-small). It runs on CTranslate2 int8 when the engine is installed (extra ct2; ``make``
installs it): 2.5x the transformers path's answers/s on 2 quiet cores, more on busy ones, at a
measured cost in changed answers (docs/models.md, "The ct2 engine"). Without it, the same model
runs through transformers.
``celm train`` starts from a base model instead, the embedded Gemma; ``celm loop`` from the chat
default. The probe judge reads hidden states, which only transformers gives.
"""

from __future__ import annotations

import importlib.util

#: the built-in base model (no extra needed): what ``gguf:`` with no name means, and what training starts from
DEFAULT_BASE_NAME = "gemma3-270m"
#: the built-in instruct chat model the defaults below run
DEFAULT_CHAT_NAME = "qwen2.5-coder-0.5b-instruct"


def ct2_installed() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


#: the engine the chat default generates with: ct2 when CTranslate2 is installed, else gguf (transformers)
CHAT_ENGINE = "ct2" if ct2_installed() else "gguf"
#: what ``celm eval`` / ``generate`` run with no ``-m``
DEFAULT_MODEL = f"{CHAT_ENGINE}:{DEFAULT_CHAT_NAME}"
#: what ``celm train`` starts from with no ``--model``
DEFAULT_TRAIN_MODEL = f"gguf:{DEFAULT_BASE_NAME}"
#: what ``celm loop`` starts from with no ``model:``: a model that answers, so its answers rank
#: apart and pair (from the Gemma base every answer ranks irrelevant and ties); LoRA trains its
#: transformers weights, and each round's merged model generates on the same engine
DEFAULT_LOOP_MODEL = DEFAULT_MODEL
#: the chat model whose hidden states the probe judge reads (transformers only)
DEFAULT_PROBE_MODEL = f"gguf:{DEFAULT_CHAT_NAME}"
