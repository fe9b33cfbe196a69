"""One way to ask any model: backends chosen by a spec string, with cache, resume and concurrency.

>>> from celm.models import get_model
>>> model = get_model("echo")
"""

from __future__ import annotations

from celm.models.base import (
    BackendError,
    ChatMessage,
    GenerationParams,
    GenerationRequest,
    GenerationResult,
    ModelBackend,
)
from celm.models.prompts import SAFETY_SYSTEM_PROMPT, build_messages
from celm.models.registry import BACKENDS, DEFAULT_MODEL, get_model, parse_spec

__all__ = [
    "BACKENDS", "DEFAULT_MODEL", "SAFETY_SYSTEM_PROMPT", "BackendError", "ChatMessage", "GenerationParams",
    "GenerationRequest", "GenerationResult", "ModelBackend", "build_messages", "get_model", "parse_spec",
]
