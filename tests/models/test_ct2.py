"""The ct2 backend on a tiny random Qwen2 model built here: conversion (atomic, survives a kill),
answers equal to the transformers path in float32, its cache key, options and the missing-extra error."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("ctranslate2")

from celm.models import GenerationParams, GenerationRequest, build_messages, get_model  # noqa: E402
from celm.models.cache import cache_key  # noqa: E402
from celm.models.ct2_convert import MANIFEST, MissingEngineError, convert, is_converted, verify  # noqa: E402

PROMPTS = ["你好", "请遵守法律法规，注意安全。如何保护个人信息？", "毒品", "Hello world, this is a tiny model"]


def _requests(prompts, **params):
    return [GenerationRequest(id=str(i), messages=build_messages(p), params=GenerationParams(**params))
            for i, p in enumerate(prompts)]


@pytest.fixture(scope="module")
def fp32(tiny_model_dir):
    return get_model(f"ct2:{tiny_model_dir}?compute_type=float32&batch_size=4")


def test_conversion_lands_in_the_cache_with_a_verified_manifest(fp32, tiny_model_dir):
    folder = fp32.folder
    assert folder.parent.name == "ct2" and folder.name.endswith("-float32")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["quantization"] == "float32" and manifest["source"] == str(tiny_model_dir.resolve())
    assert verify(folder)
    assert not list(folder.parent.glob(f".{folder.name}.*"))  # no partial left behind
    mtime = (folder / "model.bin").stat().st_mtime_ns
    again = get_model(f"ct2:{tiny_model_dir}?compute_type=float32")
    assert again.folder == folder and (folder / "model.bin").stat().st_mtime_ns == mtime  # converted once


def test_float32_greedy_answers_equal_the_transformers_path(fp32, tiny_model_dir):
    """Same tokenizer, same chat template, same end-of-turn ids: identical greedy answers in fp32."""
    hf = get_model(f"hf:{tiny_model_dir}?batch_size=4")
    requests = _requests(PROMPTS, max_new_tokens=24)
    assert [fp32.render(r) for r in requests] == [hf.render(r) for r in requests]
    ours, theirs = fp32.generate_batch(requests), hf.generate_batch(requests)
    assert [o.text for o in ours] == [t.text for t in theirs]
    assert [o.completion_tokens for o in ours] == [t.completion_tokens for t in theirs]
    assert [o.finish_reason for o in ours] == [t.finish_reason for t in theirs]
    assert [o.prompt_tokens for o in ours] == [t.prompt_tokens for t in theirs]


def test_batched_equals_one_at_a_time(fp32):
    batched = fp32.generate_batch(_requests(PROMPTS, max_new_tokens=12))
    single = [fp32.generate_batch(_requests([p], max_new_tokens=12))[0] for p in PROMPTS]
    assert [b.text for b in batched] == [s.text for s in single]
    assert all(0 < b.completion_tokens <= 12 for b in batched)


def test_stop_strings_end_the_answer_early(fp32):
    free = fp32.generate_batch(_requests(PROMPTS, max_new_tokens=30))
    row = max(range(len(free)), key=lambda i: len(free[i].text))
    text = free[row].text
    stop = text[len(text) // 2: len(text) // 2 + 2]
    cut = fp32.generate_batch(_requests([PROMPTS[row]], max_new_tokens=30, stop=(stop,)))[0]
    assert cut.finish_reason == "stop" and stop not in cut.text
    assert text.startswith(cut.text) and len(cut.text) < len(text)
    assert cut.completion_tokens < free[row].completion_tokens  # the engine stopped, not just the text


class _Spy:
    """Records the options each call hands the engine, and answers with the real one."""

    def __init__(self, generator):
        self.generator, self.calls = generator, []

    def generate_batch(self, tokens, **kwargs):
        self.calls.append(kwargs)
        return self.generator.generate_batch(tokens, **kwargs)


def test_generation_options_reach_the_engine(tiny_model_dir):
    model = get_model(f"ct2:{tiny_model_dir}?compute_type=float32&repetition_penalty=1.3&batch_size=2")
    spy = _Spy(model.generator)
    model._generator = spy
    model.generate_batch(_requests(PROMPTS[:3], max_new_tokens=7))
    greedy = spy.calls[0]
    assert len(spy.calls) == 2  # 3 prompts in batches of 2
    assert greedy["max_length"] == 7 and greedy["repetition_penalty"] == 1.3 and greedy["sampling_topk"] == 1
    assert greedy["include_prompt_in_result"] is False and model.tokenizer.eos_token_id in greedy["end_token"]
    sampled = model.generate_batch(_requests(PROMPTS, max_new_tokens=20, temperature=1.5, top_p=0.9))
    call = spy.calls[-1]
    assert call["sampling_topk"] == 0 and call["sampling_temperature"] == 1.5 and call["sampling_topp"] == 0.9
    greedy_texts = [r.text for r in model.generate_batch(_requests(PROMPTS, max_new_tokens=20))]
    assert [r.text for r in sampled] != greedy_texts


def test_cache_key_names_engine_and_compute_type(fp32, tiny_model_dir):
    int8 = get_model(f"ct2:{tiny_model_dir}")
    hf = get_model(f"hf:{tiny_model_dir}")
    identities = {fp32.cache_identity, int8.cache_identity, hf.cache_identity}
    assert len(identities) == 3
    assert "engine=ctranslate2" in int8.cache_identity and "compute=int8" in int8.cache_identity
    request = _requests(["你好"])[0]
    assert len({cache_key(i, request) for i in identities}) == 3
    assert int8.folder != fp32.folder and int8.folder.name.endswith("-int8")


def test_an_exception_mid_conversion_leaves_nothing_and_a_retry_succeeds(tiny_model_dir, tmp_path, monkeypatch):
    from celm.models import ct2_convert

    out = tmp_path / "converted"

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ct2_convert, "_write_manifest", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        convert(tiny_model_dir, out)
    assert not out.exists() and not list(tmp_path.glob(".converted.*"))
    monkeypatch.undo()
    assert is_converted(convert(tiny_model_dir, out))


def test_a_killed_conversion_is_never_taken_for_done(tiny_model_dir, tmp_path):
    """SIGKILL half-way (after the weights, before the manifest): only a hidden partial remains;
    the next conversion removes it and finishes."""
    out = tmp_path / "converted"
    script = textwrap.dedent(f"""
        import os, signal
        from celm.models import ct2_convert
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        ct2_convert._write_manifest = die
        ct2_convert.convert({str(tiny_model_dir)!r}, {str(out)!r})
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    partials = list(tmp_path.glob(".converted.*.partial"))
    assert len(partials) == 1 and (partials[0] / "model.bin").is_file()  # it really was killed mid-way
    assert not out.exists() and not is_converted(partials[0])
    assert is_converted(convert(tiny_model_dir, out)) and verify(out)
    assert not partials[0].exists()


def test_missing_ctranslate2_is_one_clear_error(tiny_model_dir, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # import fails as if not installed
    with pytest.raises(MissingEngineError, match=r"pip install 'celm\[ct2\]'"):
        get_model(f"ct2:{tiny_model_dir}")
    from typer.testing import CliRunner

    from celm.cli.main import app

    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "a", "prompt": "你好", "kind": "benign"}\n', encoding="utf-8")
    out = CliRunner().invoke(app, ["generate", "-m", f"ct2:{tiny_model_dir}", "-i", str(items), "-o", str(tmp_path / "o.jsonl")])
    assert out.exit_code == 2 and "celm[ct2]" in out.output and "Traceback" not in out.output


def test_weights_folder_is_one_rule_for_every_backend(tiny_model_dir, fp32):
    from celm.models.registry import weights_folder

    assert weights_folder(f"hf:{tiny_model_dir}") == str(tiny_model_dir)
    assert weights_folder(f"ct2:{tiny_model_dir}") == str(tiny_model_dir)  # trains from the source folder
    assert weights_folder(str(tiny_model_dir)) == str(tiny_model_dir)
    assert weights_folder("gguf:qwen2.5-coder-0.5b-instruct", hub=True) == "Qwen/Qwen2.5-Coder-0.5B-Instruct"
    assert weights_folder("gguf:", hub=True) == "google/gemma-3-270m"
    with pytest.raises(ValueError, match="converted CTranslate2 folder"):
        weights_folder(f"ct2:{fp32.folder}")
    with pytest.raises(ValueError, match="no local weights"):
        weights_folder("echo:x")


def test_spec_options_are_parsed_and_typos_refused(tiny_model_dir):
    model = get_model(f"ct2:{tiny_model_dir}?batch_size=3&inter_threads=2&intra_threads=1&repetition_penalty=1.2"
                      "&template=plain&stop_on_turn=false")
    assert (model.batch_size, model.inter_threads, model.intra_threads) == (3, 2, 1)
    assert model.repetition_penalty == 1.2 and model.stop_on_turn is False and not model.use_chat
    assert model.render(_requests(["你好"])[0]).endswith("用户：你好\n助手：")
    with pytest.raises(ValueError, match="did you mean 'batch_size'"):
        get_model(f"ct2:{tiny_model_dir}?batch_sise=4")


class _FakeGenerator:
    """Stands in for ``ctranslate2.Generator`` where no GPU exists: records how it was built."""

    built: list[tuple[str, dict]] = []

    def __init__(self, folder, **kwargs):
        _FakeGenerator.built.append((folder, kwargs))


def test_gpu_options_reach_the_engine(tiny_model_dir, monkeypatch):
    """device=cuda and compute_type=int8_float16 are passed through as given (no GPU here: the
    plumbing only); they reuse the int8 weights and never share answers with the CPU's."""
    import ctranslate2

    _FakeGenerator.built.clear()
    monkeypatch.setattr(ctranslate2, "Generator", _FakeGenerator)
    gpu = get_model(f"ct2:{tiny_model_dir}?device=cuda&compute_type=int8_float16&inter_threads=2")
    cpu = get_model(f"ct2:{tiny_model_dir}")
    assert gpu.folder == cpu.folder and gpu.folder.name.endswith("-int8")  # int8 weights serve int8_float16
    assert gpu.describe()["device"] == "cuda" and gpu.describe()["compute_type"] == "int8_float16"
    gpu.generator
    folder, kwargs = _FakeGenerator.built[-1]
    assert folder == str(gpu.folder)
    assert kwargs["device"] == "cuda" and kwargs["compute_type"] == "int8_float16" and kwargs["inter_threads"] == 2
    assert gpu.cache_identity != cpu.cache_identity and "compute=int8_float16" in gpu.cache_identity
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    assert get_model(f"ct2:{tiny_model_dir}?device=auto").device == "cuda"
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    assert get_model(f"ct2:{tiny_model_dir}?device=auto").device == "cpu"


def test_the_chat_default_runs_on_ct2_only_where_it_is_installed(monkeypatch):
    import importlib

    from celm.models import defaults

    assert defaults.DEFAULT_MODEL == f"ct2:{defaults.DEFAULT_CHAT_NAME}"  # installed here (importorskip above)
    assert defaults.DEFAULT_PROBE_MODEL.startswith("gguf:")  # hidden states: transformers only
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ctranslate2" else find_spec(name, *a))
    try:
        assert importlib.reload(defaults).DEFAULT_MODEL == f"gguf:{defaults.DEFAULT_CHAT_NAME}"
    finally:
        monkeypatch.undo()
        importlib.reload(defaults)
    assert defaults.DEFAULT_MODEL.startswith("ct2:")


def test_a_model_trained_from_ct2_weights_generates_on_ct2_with_the_same_options():
    from celm.models.registry import trained_spec

    assert trained_spec("ct2:qwen2.5-coder-0.5b-instruct?compute_type=int8_float32", "/r/merged") == \
        "ct2:/r/merged?compute_type=int8_float32"
    assert trained_spec("gguf:gemma3-270m?batch_size=4", "/r/merged") == "hf:/r/merged"  # gguf reads GGUF files only
    assert trained_spec("hf:/m?dtype=bfloat16", "/r/merged") == "hf:/r/merged?dtype=bfloat16"
