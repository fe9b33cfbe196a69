"""``echo``: answers with the last user message. For tests and dry runs: costs nothing."""

from __future__ import annotations

from collections.abc import Sequence

from celm.models.base import GenerationRequest, GenerationResult, ModelBackend


class EchoBackend(ModelBackend):
    batch_size = 256

    def __init__(self, spec: str, target: str = "", prefix: str = "", **_: str):
        super().__init__(spec)
        self.prefix = prefix

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        out = []
        for r in requests:
            text = self.prefix + next((m.content for m in reversed(r.messages) if m.role == "user"), "")
            out.append(GenerationResult(text=text, finish_reason="stop", prompt_tokens=len(text), completion_tokens=len(text), latency_s=0.0))
        return out
