"""``openai:MODEL@BASE_URL``: any OpenAI-compatible chat endpoint (vLLM, Ollama, DeepSeek, DashScope, OpenAI).

Options: ``key_env`` (environment variable holding the API key; default OPENAI_API_KEY; the key is
never logged or written), ``timeout`` (seconds per request, default 60), ``retries`` (default 6),
``rpm`` (requests per minute, default unlimited), ``price_in``/``price_out`` (USD per million
tokens, for cost when the endpoint reports usage).
Retries use exponential backoff with full jitter on 429, 5xx, timeouts and dropped connections.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter

from celm.models.base import GenerationRequest, GenerationResult, ModelBackend, truncate_at_stop

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class RateLimiter:
    """At most ``rpm`` request starts per minute, spaced evenly (a leaky bucket)."""

    def __init__(self, rpm: float | None):
        self.interval = 60.0 / rpm if rpm else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class OpenAIBackend(ModelBackend):
    is_async = True

    def __init__(self, spec: str, target: str, *, key_env: str = "OPENAI_API_KEY", timeout: str | float = 60,
                 retries: str | int = 6, rpm: str | float | None = None, price_in: str | float | None = None,
                 price_out: str | float | None = None, backoff: str | float = 0.5, **_: str):
        super().__init__(spec)
        model, _, base_url = target.partition("@")
        if not model:
            raise ValueError("openai needs a model name: openai:MODEL@BASE_URL")
        self.model = model
        self.base_url = base_url or None
        self.key_env = key_env
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.rpm = float(rpm) if rpm else None
        self.price_in = float(price_in) if price_in else None
        self.price_out = float(price_out) if price_out else None
        self._client = None
        self._limiter = RateLimiter(self.rpm)

    @property
    def model_id(self) -> str:
        return f"openai:{self.model}@{self.base_url or 'api.openai.com'}"

    def describe(self) -> dict:  # never includes the key
        return {"spec": self.spec, "model_id": self.model_id, "key_env": self.key_env, "timeout": self.timeout,
                "retries": self.retries, "rpm": self.rpm}

    @property
    def client(self):
        if self._client is None:
            from openai import AsyncOpenAI

            # Retries are ours (with jitter and our own accounting), so the client's are off.
            self._client = AsyncOpenAI(api_key=os.environ.get(self.key_env) or "EMPTY", base_url=self.base_url,
                                       timeout=self.timeout, max_retries=0)
        return self._client

    def _cost(self, usage) -> float | None:
        if usage is None or self.price_in is None:
            return None
        return (usage.prompt_tokens * self.price_in + usage.completion_tokens * (self.price_out or self.price_in)) / 1e6

    async def agenerate(self, request: GenerationRequest) -> GenerationResult:
        import openai

        p = request.params
        kwargs = {"model": self.model, "messages": [m.model_dump() for m in request.messages],
                  "max_tokens": p.max_new_tokens, "temperature": p.temperature, "top_p": p.top_p}
        if p.stop:
            kwargs["stop"] = list(p.stop)[:4]
        if p.seed is not None:
            kwargs["seed"] = p.seed
        last_error = ""
        seen: Counter = Counter()
        for attempt in range(self.retries + 1):
            await self._limiter.wait()
            t0 = time.perf_counter()
            try:
                resp = await self.client.chat.completions.create(**kwargs)
            except openai.APIStatusError as exc:
                last_error = f"HTTP {exc.status_code}: {exc.message}"[:300]
                if exc.status_code not in RETRY_STATUS:
                    return GenerationResult(error=last_error)
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"[:300]
            else:
                choice = resp.choices[0]
                text, _ = truncate_at_stop(choice.message.content or "", p.stop)
                usage = resp.usage
                return GenerationResult(
                    text=text, finish_reason=choice.finish_reason, latency_s=time.perf_counter() - t0,
                    prompt_tokens=usage.prompt_tokens if usage else None,
                    completion_tokens=usage.completion_tokens if usage else None, cost_usd=self._cost(usage),
                )
            seen[last_error.split(":")[0]] += 1
            if attempt < self.retries:
                # Exponential backoff with full jitter (spreads retries from many workers).
                await asyncio.sleep(random.uniform(0, self.backoff * 2 ** attempt))
        summary = ", ".join(f"{k} x{v}" for k, v in seen.most_common())
        return GenerationResult(error=f"gave up after {self.retries + 1} attempts ({summary}); last: {last_error}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
