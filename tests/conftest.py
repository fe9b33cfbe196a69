"""Shared fixtures. Tests that need the public data in ../shared skip without it, unless
CELM_REQUIRE_SHARED=1 (as in CI), where they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Models dequantised from GGUF are cached here between test runs (the folder is git-ignored).
os.environ.setdefault("CELM_CACHE_DIR", str(REPO / ".celm-cache" / "test"))


def _shared_dir() -> Path | None:
    env = os.environ.get("CELM_SHARED_DATA")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data", REPO / "shared" / "data"]:
        if (candidate / "MANIFEST.md").exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    found = _shared_dir()
    if found is None:
        if os.environ.get("CELM_REQUIRE_SHARED") == "1":
            pytest.fail("CELM_REQUIRE_SHARED=1 but ../shared/data (or $CELM_SHARED_DATA) is missing")
        pytest.skip("public data in ../shared/data not found")
    os.environ.setdefault("CELM_SHARED_DATA", str(found))
    return found


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from tests.tiny_models import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))
