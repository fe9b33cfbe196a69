"""``scripted:FILE``: canned answers keyed by prompt, for tests and dry runs.

The file maps prompts to answers: a JSON/YAML object, or JSONL rows ``{"prompt": ..., "response": ...}``.
A request matches the key equal to its last user message, else a key contained in it (so norms or
injection wrappers around a prompt still match), else the key ``"*"``; otherwise it fails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import yaml

from celm.models.base import GenerationRequest, GenerationResult, ModelBackend


def load_script(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        return {r["prompt"]: r["response"] for r in rows}
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a script must map prompts to answers")
    return {str(k): str(v) for k, v in data.items()}


class ScriptedBackend(ModelBackend):
    batch_size = 256

    def __init__(self, spec: str, target: str, **_: str):
        super().__init__(spec)
        if not target:
            raise ValueError("scripted needs a file: scripted:answers.yaml")
        self.path = Path(target)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: script file not found")
        self.script = load_script(self.path)
        # Longest keys first so the most specific contained key wins.
        self._keys = sorted((k for k in self.script if k != "*"), key=len, reverse=True)

    def answer(self, prompt: str) -> str | None:
        if prompt in self.script:
            return self.script[prompt]
        for key in self._keys:
            if key in prompt:
                return self.script[key]
        return self.script.get("*")

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        out = []
        for r in requests:
            prompt = next((m.content for m in reversed(r.messages) if m.role == "user"), "")
            text = self.answer(prompt)
            if text is None:
                out.append(GenerationResult(error=f"no scripted answer for prompt {prompt[:40]!r}"))
            else:
                out.append(GenerationResult(text=text, finish_reason="stop", latency_s=0.0))
        return out
