"""A local OpenAI-compatible chat server for tests, benchmarks and dry runs (FastAPI + uvicorn).

It answers ``POST /v1/chat/completions`` with a deterministic reply to the last user message and,
on request, misbehaves like a real endpoint under load: latency, random 429 and 500 answers, and
connections dropped mid-response. It counts what it served, so tests can prove that no prompt was
answered twice.

    python -m celm.models.mock_server --port 8123 --fail-rate 0.2
"""

# No `from __future__ import annotations` here: FastAPI reads the handler annotations at runtime.

import asyncio
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ServerStats:
    requests: int = 0
    served: Counter = field(default_factory=Counter)  # prompt -> 200 answers sent in full
    errors: Counter = field(default_factory=Counter)  # status (or "drop") -> count
    lock: threading.Lock = field(default_factory=threading.Lock)


def reply_for(prompt: str) -> str:
    return f"模拟回答：{prompt}"


def build_app(*, latency: float = 0.0, fail_rate: float = 0.0, drop_rate: float = 0.0, seed: int = 0,
              stats: ServerStats | None = None):
    """The ASGI app. Each request draws one number: below ``fail_rate`` it gets a 429 or a 500,
    within the next ``drop_rate`` its connection is cut mid-response, otherwise it is answered."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    stats = stats or ServerStats()
    rng = random.Random(seed)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        roll = request.scope["celm_roll"]
        if latency:
            await asyncio.sleep(latency * (0.5 + rng.random()))
        if roll < fail_rate:
            status = 429 if roll < fail_rate / 2 else 500
            with stats.lock:
                stats.errors[status] += 1
            return JSONResponse({"error": {"message": "rate limited" if status == 429 else "server error"}}, status_code=status)
        prompt = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        text = reply_for(prompt)
        with stats.lock:
            stats.served[prompt] += 1
        return {
            "id": f"cmpl-{stats.requests}", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(text), "total_tokens": len(prompt) + len(text)},
        }

    async def asgi(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        with stats.lock:
            stats.requests += 1
            roll = rng.random()
        if fail_rate <= roll < fail_rate + drop_rate:
            # A real drop: headers promise a body, half of it goes out, then the socket closes.
            while (await receive()).get("more_body"):
                pass
            with stats.lock:
                stats.errors["drop"] += 1
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"choices": [', "more_body": True})
            raise ConnectionAbortedError("connection dropped on purpose")
        scope["celm_roll"] = roll
        await app(scope, receive, send)

    asgi.stats = stats
    return asgi


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MockServer:
    """Runs the app with uvicorn in a background thread on 127.0.0.1."""

    def __init__(self, port: int | None = None, **options):
        import uvicorn

        self.port = port or free_port()
        self.app = build_app(**options)
        self.stats: ServerStats = self.app.stats
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off",
                                timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("mock server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def main() -> None:  # pragma: no cover - manual use
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    args = parser.parse_args()
    uvicorn.run(build_app(latency=args.latency, fail_rate=args.fail_rate, drop_rate=args.drop_rate),
                host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
