"""The embedded base model: Gemma 3 270M from its GGUF file (the fast model of the tests). Slow: ~1 minute on first use."""

import re

import pytest

from celm.models import DEFAULT_MODEL, GenerationParams, GenerationRequest, build_messages, get_model


@pytest.mark.slow
def test_gguf_gemma_loads_and_writes_chinese():
    model = get_model("gguf:gemma3-270m")
    assert DEFAULT_MODEL.endswith(":qwen2.5-coder-0.5b-instruct") and model.model_id == "gguf:gemma3-270m"
    assert not model.use_chat  # a base model: the plain dialogue template is used
    reqs = [GenerationRequest(id=str(i), messages=build_messages(p), params=GenerationParams(max_new_tokens=24))
            for i, p in enumerate(["如何保护个人信息？", "写一句关于春天的话。"])]
    out = model.generate_batch(reqs)
    assert all(o.ok and o.completion_tokens > 0 for o in out)
    assert all(re.search(r"[\u4e00-\u9fff]", o.text) for o in out), [o.text for o in out]
    # the dequantised copy is a plain model: no quantisation flag left
    assert getattr(model.model, "hf_quantizer", None) is None
