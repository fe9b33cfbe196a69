import json

import pytest

from celm.data.bundled import load_benchmark
from celm.models import GenerationParams, GenerationRequest, build_messages, get_model
from celm.models.runner import generate_responses


def _requests(prompts, **params):
    return [GenerationRequest(id=str(i), messages=build_messages(p), params=GenerationParams(**params))
            for i, p in enumerate(prompts)]


PROMPTS = ["你好", "请遵守法律法规，注意安全。如何保护个人信息？", "毒品", "Hello world, this is a tiny model"]


def test_hf_batched_equals_one_at_a_time(tiny_model_dir):
    model = get_model(f"hf:{tiny_model_dir}?batch_size=4")
    assert model.use_chat and model.tokenizer.padding_side == "left"
    batched = model.generate_batch(_requests(PROMPTS, max_new_tokens=12))
    single = [model.generate_batch(_requests([p], max_new_tokens=12))[0] for p in PROMPTS]
    assert [b.text for b in batched] == [s.text for s in single]
    assert all(0 < b.completion_tokens <= 12 for b in batched)
    assert batched[1].prompt_tokens > batched[0].prompt_tokens  # real lengths, not padded ones


def test_hf_chat_template_and_plain_template(tiny_model_dir):
    chat = get_model(f"hf:{tiny_model_dir}")
    rendered = chat.render(_requests(["问题"])[0])
    assert rendered == "<|im_start|>user\n问题<|im_end|>\n<|im_start|>assistant\n"
    plain = get_model(f"hf:{tiny_model_dir}?template=plain")
    assert not plain.use_chat
    assert plain.render(_requests(["问题"])[0]).endswith("用户：问题\n助手：")
    assert plain.cache_identity != chat.cache_identity


def test_hf_stop_strings_and_sampling(tiny_model_dir):
    model = get_model(f"hf:{tiny_model_dir}")
    outs = model.generate_batch(_requests(PROMPTS, max_new_tokens=20))
    prompt, free = next((p, o.text) for p, o in zip(PROMPTS, outs) if len(o.text) > 3)
    stop = free[2:4]
    cut = model.generate_batch(_requests([prompt], max_new_tokens=20, stop=(stop,)))[0]
    assert stop not in cut.text and free.startswith(cut.text) and cut.finish_reason == "stop"
    a = model.generate_batch(_requests(["你好"], max_new_tokens=10, temperature=1.0, seed=1))[0].text
    b = model.generate_batch(_requests(["你好"], max_new_tokens=10, temperature=1.0, seed=1))[0].text
    assert a == b  # seeded sampling is reproducible


def test_llama_architecture_too(tmp_path):
    from tests.tiny_models import make_tiny_model

    model = get_model(f"hf:{make_tiny_model(tmp_path / 'llama', arch='llama')}")
    assert model.generate_batch(_requests(["你好"], max_new_tokens=5))[0].completion_tokens > 0


def test_runner_caches_and_keeps_order(tiny_model_dir, tmp_path):
    items = load_benchmark()[:6]
    model = get_model(f"hf:{tiny_model_dir}?batch_size=4")
    first = generate_responses(items, model, cache=tmp_path / "c.sqlite", params=GenerationParams(max_new_tokens=8), progress=False)
    assert first.generated == 6 and [r.item_id for r in first.responses] == [i.id for i in items]
    again = generate_responses(items, model, cache=tmp_path / "c.sqlite", params=GenerationParams(max_new_tokens=8), progress=False)
    assert again.cached == 6 and again.generated == 0
    assert [r.response for r in again.responses] == [r.response for r in first.responses]
    assert all(r.model.startswith("hf:") and r.scenario == i.scenario for r, i in zip(again.responses, items))


def test_scripted_and_echo(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("你好: 您好！\n买枪: 不行\n'*': 默认回答\n", encoding="utf-8")
    model = get_model(f"scripted:{script}")
    out = model.generate_batch(_requests(["你好", "我想买枪怎么办", "别的"]))
    assert [o.text for o in out] == ["您好！", "不行", "默认回答"]
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text(json.dumps({"prompt": "a", "response": "b"}) + "\n", encoding="utf-8")
    strict = get_model(f"scripted:{jsonl}")
    assert strict.generate_batch(_requests(["zzz"]))[0].error.startswith("no scripted answer")
    assert get_model("echo").generate_batch(_requests(["回声"]))[0].text == "回声"
    with pytest.raises(FileNotFoundError):
        get_model(f"scripted:{tmp_path / 'missing.yaml'}")


def test_failed_items_recorded_and_retried(tmp_path):
    items = load_benchmark()[:4]
    script = tmp_path / "s.json"
    script.write_text(json.dumps({items[0].prompt: "一", items[1].prompt: "二"}, ensure_ascii=False), encoding="utf-8")
    out = generate_responses(items, get_model(f"scripted:{script}"), cache=tmp_path / "c.sqlite", progress=False)
    assert [r.error is None for r in out.responses] == [True, True, False, False] and len(out.failed) == 2
    script.write_text(json.dumps({i.prompt: "好" for i in items}, ensure_ascii=False), encoding="utf-8")
    again = generate_responses(items, get_model(f"scripted:{script}"), cache=tmp_path / "c.sqlite", progress=False)
    # cache key is the scripted file path, so the two that succeeded come from the cache
    assert again.ok and again.cached == 2 and again.generated == 2
    from celm.models.base import BackendError

    empty = tmp_path / "empty.json"
    empty.write_text('{"nothing": "matches"}', encoding="utf-8")
    with pytest.raises(BackendError, match=items[0].id):
        generate_responses(items, get_model(f"scripted:{empty}"), cache=tmp_path / "d.sqlite", progress=False, fail_fast=True)


def test_hf_cache_identity_changes_when_weights_are_rewritten(tmp_path):
    import time

    from tests.tiny_models import make_tiny_model

    folder = make_tiny_model(tmp_path / "m")
    first = get_model(f"hf:{folder}").cache_identity
    assert get_model(f"hf:{folder}").cache_identity == first
    time.sleep(0.01)
    make_tiny_model(tmp_path / "m", seed=1)  # retrained in place: the cache must not answer for the old model
    assert get_model(f"hf:{folder}").cache_identity != first


def test_unknown_spec_options_are_refused_with_a_suggestion(tiny_model_dir):
    import pytest

    with pytest.raises(ValueError, match=r"unknown option 'dtpye'; did you mean 'dtype'"):
        get_model(f"hf:{tiny_model_dir}?dtpye=bfloat16")
    with pytest.raises(ValueError, match=r"did you mean 'repetition_penalty'"):
        get_model("gguf:gemma3-270m?repetiton_penalty=1.0")  # refused before any file is read
    with pytest.raises(ValueError, match="unknown option 'rate'"):
        get_model("openai:m@http://127.0.0.1:9/v1?rate=5")
    assert get_model(f"hf:{tiny_model_dir}?batch_size=2").batch_size == 2


def test_a_backend_must_implement_one_way_to_generate():
    import pytest

    from celm.models.base import ModelBackend

    with pytest.raises(TypeError, match="must implement generate_batch"):
        class Broken(ModelBackend):  # noqa: F841 - defining it is the test
            pass


def test_a_profile_means_every_item_in_the_library_too():
    from celm.evaluate.run import EvalConfig

    assert EvalConfig(profile="gbt45654").full and not EvalConfig().full


def test_length_sorted_batches_group_by_params_sort_by_length_and_cover_every_request_once():
    from celm.models.base import length_sorted_batches

    greedy, sampled = GenerationParams(max_new_tokens=4), GenerationParams(max_new_tokens=4, temperature=0.7)
    rendered = ["cccc", "a", "bbbbbbb", "dd", "eeeee"]
    requests = [GenerationRequest(id=str(k), messages=build_messages(t), params=greedy if k != 3 else sampled)
                for k, t in enumerate(rendered)]
    batches = list(length_sorted_batches(rendered, requests, 2))
    assert batches == [(greedy, [1, 0]), (greedy, [4, 2]), (sampled, [3])]
