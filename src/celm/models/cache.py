"""A SQLite response cache: a re-run never asks twice, and a killed run loses nothing it acknowledged.

Each result is committed as soon as it arrives (WAL journal, so readers never block the writer);
"acknowledged" means committed. Failed results are not cached, so a resume retries them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from celm.models.base import GenerationRequest, GenerationResult


def cache_key(model_id: str, request: GenerationRequest) -> str:
    payload = {
        "model": model_id,
        "messages": [m.model_dump() for m in request.messages],
        "params": request.params.model_dump(),
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def default_cache_path() -> Path:
    from celm.paths import cache_dir

    return cache_dir() / "responses.sqlite"


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, result TEXT, created TEXT DEFAULT CURRENT_TIMESTAMP)"
        )

    def get_many(self, keys: list[str]) -> dict[str, GenerationResult]:
        found: dict[str, GenerationResult] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, result in self._db.execute(f"SELECT key, result FROM responses WHERE key IN ({marks})", chunk):
                    found[key] = GenerationResult.model_validate_json(result)
        return found

    def put(self, key: str, model: str, result: GenerationResult) -> None:
        if not result.ok:
            return
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses (key, model, result) VALUES (?, ?, ?)",
                             (key, model, result.model_dump_json()))

    def close(self) -> None:
        with self._lock:
            self._db.close()
