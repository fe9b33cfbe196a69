"""One request type and one backend interface for every model celm talks to."""

from __future__ import annotations

import asyncio
from abc import ABC
from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    role: Role
    content: str


class GenerationParams(BaseModel):
    """Decoding settings; temperature 0 means greedy."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_new_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop: tuple[str, ...] = ()
    seed: int | None = 0


class GenerationRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    messages: tuple[ChatMessage, ...]
    params: GenerationParams = GenerationParams()


class GenerationResult(BaseModel):
    text: str = ""
    error: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    cost_usd: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ModelBackend(ABC):
    """A model behind a spec string. Local backends batch (``generate_batch``); remote ones are
    async (``agenerate``) and the runner drives many at once."""

    #: ``True`` when the runner should call ``agenerate`` concurrently rather than batch.
    is_async: bool = False
    #: prompts per ``generate_batch`` call
    batch_size: int = 8

    def __init__(self, spec: str):
        self.spec = spec

    def __init_subclass__(cls, **kwargs):
        # The two default methods are written in terms of each other: a backend must override at
        # least one, or it would recurse forever on its first request. Fail when it is defined.
        super().__init_subclass__(**kwargs)
        if cls.generate_batch is ModelBackend.generate_batch and cls.agenerate is ModelBackend.agenerate:
            raise TypeError(f"{cls.__name__} must implement generate_batch (local, batched) or agenerate (remote, async)")

    #: the backend that generates from a transformers folder trained from this backend's weights
    trained_engine: str = "hf"

    @property
    def model_id(self) -> str:
        """What identifies the weights (goes into the cache key and every Response)."""
        return self.spec

    @property
    def cache_identity(self) -> str:
        """Everything besides the request that changes outputs (weights, template, backend options)."""
        return self.model_id

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        return [asyncio.run(self.agenerate(r)) for r in requests]

    async def agenerate(self, request: GenerationRequest) -> GenerationResult:
        return (await asyncio.to_thread(self.generate_batch, [request]))[0]

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict:
        return {"spec": self.spec, "model_id": self.model_id}


class BackendError(RuntimeError):
    """A backend could not answer (after its retries)."""


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    cut = min((text.find(s) for s in stop if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def length_sorted_batches(rendered: Sequence[str], requests: Sequence[GenerationRequest],
                          batch_size: int) -> Iterator[tuple[GenerationParams, list[int]]]:
    """The requests' indices in batches of at most ``batch_size`` that share their params, prompts of
    similar (rendered) length together: less padding, and an engine that forwards a batch's prompts at
    once only up to the shortest one decodes fewer of them token by token. Same outputs either way."""
    by_params: dict[GenerationParams, list[int]] = {}
    for i in sorted(range(len(requests)), key=lambda i: len(rendered[i])):
        by_params.setdefault(requests[i].params, []).append(i)
    for params, indices in by_params.items():
        for start in range(0, len(indices), batch_size):
            yield params, indices[start:start + batch_size]
