"""Where celm keeps what it caches: one place for every cache (models, responses, embeddings)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$CELM_CACHE_DIR``, else the user cache folder (``~/.cache/celm`` on Linux)."""
    from platformdirs import user_cache_dir

    return Path(os.environ.get("CELM_CACHE_DIR") or user_cache_dir("celm"))
