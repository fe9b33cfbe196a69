"""The model every command starts from when none is named: one place for each default.

The chat default is what ``celm eval`` / ``generate`` / ``make demo`` run (a real instruct model,
extra chat-small). Training starts from a base model instead, the embedded Gemma.
"""

from __future__ import annotations

#: the built-in base model (no extra needed): what ``gguf:`` with no name means, and what training starts from
DEFAULT_BASE_NAME = "gemma3-270m"
#: the built-in instruct chat model the defaults below run
DEFAULT_CHAT_NAME = "qwen2.5-coder-0.5b-instruct"

#: what ``celm eval`` / ``generate`` run with no ``-m``
DEFAULT_MODEL = f"gguf:{DEFAULT_CHAT_NAME}"
#: what ``celm train`` starts from with no ``--model``
DEFAULT_TRAIN_MODEL = f"gguf:{DEFAULT_BASE_NAME}"
#: what ``celm loop`` starts from with no ``model:``
DEFAULT_LOOP_MODEL = DEFAULT_TRAIN_MODEL
#: the chat model whose hidden states the probe judge reads
DEFAULT_PROBE_MODEL = f"gguf:{DEFAULT_CHAT_NAME}"
