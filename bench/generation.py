"""Benchmark: the model layer (issue: model backends).

0. Engines (``--engines``): the built-in chat model through transformers fp32 (``gguf:``) against
   CTranslate2 int8 (``ct2:``) on the same prompts and token budget, each in a process of its own
   (so its peak RSS is its own): answers/s, tokens/s, load time, peak RSS, and the ratio.
   Volume (``--volume N``): CTranslate2 alone, N answers from the 0.5B and the 1.5B instruct models,
   and what 1,000 answers take at that rate.

1. Batched generation through celm's gguf: backend (Gemma 3 270M, batch 16) against calling
   ``model.generate`` one prompt at a time on the same prompts: tokens/s and the ratio (aim >= 4x).
2. Overhead of celm's cache + concurrency layer against a bare ``openai`` client loop with the same
   concurrency, on a local zero-latency mock server in its own process (aim <= 10%, >= 200 req/s).

Run: .venv/bin/python bench/generation.py [--prompts 16] [--tokens 32] [--requests 1000]
     .venv/bin/python bench/generation.py --engines [--prompts 16] [--tokens 64]   # the engines only
     .venv/bin/python bench/generation.py --volume 96 --tokens 128     # ct2 at volume: 1,000 answers, 0.5B and 1.5B
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from celm.data.bundled import load_benchmark
from celm.models import GenerationParams, GenerationRequest, build_messages, get_model
from celm.models.defaults import DEFAULT_CHAT_NAME
from celm.models.mock_server import free_port
from celm.models.runner import generate_responses


def bench_throughput(n_prompts: int, tokens: int) -> float:
    """Fixed-length throughput (no stop string), the usual way to compare batching: tokens/s."""
    import torch

    model = get_model(f"gguf:gemma3-270m?batch_size={n_prompts}&stop_on_turn=false")
    items = load_benchmark()[::27][:n_prompts]
    params = GenerationParams(max_new_tokens=tokens)
    reqs = [GenerationRequest(id=i.id, messages=build_messages(i.prompt), params=params) for i in items]
    model.generate_batch(reqs[:2])
    t0 = time.perf_counter()
    outs = model.generate_batch(reqs)
    b_rate = sum(o.completion_tokens for o in outs) / (time.perf_counter() - t0)
    tok, hf = model.tokenizer, model.model
    t0 = time.perf_counter()
    n = 0
    for r in reqs:
        enc = tok([model.render(r)], return_tensors="pt")
        with torch.inference_mode():
            out = hf.generate(**enc, max_new_tokens=tokens, do_sample=False, repetition_penalty=model.repetition_penalty,
                              pad_token_id=tok.pad_token_id)
        n += out.shape[1] - enc["input_ids"].shape[1]
    s_rate = n / (time.perf_counter() - t0)
    print(f"fixed length {tokens} tokens: batch {n_prompts} {b_rate:.1f} tok/s vs one at a time {s_rate:.1f} tok/s "
          f"= {b_rate / s_rate:.2f}x")
    return b_rate / s_rate


def bench_batching(n_prompts: int, tokens: int) -> tuple[float, float]:
    """As users run it: stop at the end of the assistant's turn; wall time on the same prompts."""
    import torch

    torch.manual_seed(0)
    model = get_model(f"gguf:gemma3-270m?batch_size={n_prompts}")
    items = load_benchmark()[::27][:n_prompts]
    params = GenerationParams(max_new_tokens=tokens)
    reqs = [GenerationRequest(id=i.id, messages=build_messages(i.prompt), params=params) for i in items]
    model.generate_batch(reqs[:2])  # warm-up

    t0 = time.perf_counter()
    outs = model.generate_batch(reqs)
    batched_s = time.perf_counter() - t0
    batched_tokens = sum(o.completion_tokens for o in outs)

    # Baseline: plain transformers, one prompt at a time, same prompts and decoding settings.
    # It stops on the same stop string as celm does, so both produce the same text.
    from celm.models.hf import PLAIN_STOP, _TailStop

    tok, hf = model.tokenizer, model.model
    t0 = time.perf_counter()
    single_tokens, same = 0, 0
    for r, o in zip(reqs, outs):
        enc = tok([model.render(r)], return_tensors="pt")
        n_in = enc["input_ids"].shape[1]
        with torch.inference_mode():
            out = hf.generate(**enc, max_new_tokens=tokens, do_sample=False, repetition_penalty=model.repetition_penalty,
                              pad_token_id=tok.pad_token_id, stopping_criteria=[_TailStop(tok, PLAIN_STOP, n_in)])
        text = tok.decode(out[0, n_in:], skip_special_tokens=True)
        single_tokens += out.shape[1] - n_in
        same += text.split(PLAIN_STOP[0])[0].strip() == o.text
    single_s = time.perf_counter() - t0
    b_rate, s_rate = batched_tokens / batched_s, single_tokens / single_s
    print(f"gguf:gemma3-270m batch {n_prompts}: {batched_tokens} tokens in {batched_s:.1f}s = {b_rate:.1f} tok/s")
    print(f"one at a time (model.generate): {single_tokens} tokens in {single_s:.1f}s = {s_rate:.1f} tok/s")
    print(f"same text as batched: {same}/{len(reqs)} (left padding changes float sums slightly)")
    print(f"batched speed-up on the same prompts: {single_s / batched_s:.2f}x wall time")
    return single_s / batched_s, b_rate


def _prompts(n: int) -> list:
    """``n`` celm-bench prompts spread over every scenario; past the bank's size it starts again
    (with new ids, so nothing is served twice from anywhere)."""
    bank = load_benchmark()
    step = max(1, len(bank) // n)
    spread = bank[::step]
    return [spread[k % len(spread)].model_copy(update={"id": f"{spread[k % len(spread)].id}#{k}"}) for k in range(n)]


def bench_volume(names: list[str], n_answers: int, tokens: int, target: int) -> list[tuple[str, float]]:
    """The fast engine at volume: ``n_answers`` answers of up to ``tokens`` tokens per built-in model,
    and the minutes ``target`` answers would take at that rate (batches run one after another, so
    the time grows with the count)."""
    minutes = []
    for name in names:
        spec = f"ct2:{name}"
        out = subprocess.run([sys.executable, __file__, "--engine-worker", spec, "--prompts", str(n_answers),
                              "--tokens", str(tokens)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rate = r["answers"] / r["wall_s"]
        minutes.append((name, target / rate / 60))
        print(f"{spec}: {r['answers']} answers, {r['tokens']} tokens in {r['wall_s']:.1f}s = {rate:.3f} answers/s, "
              f"{r['tokens'] / r['wall_s']:.1f} tok/s; load {r['load_s']:.1f}s; peak RSS {r['peak_rss_mb']:,.0f} MB; "
              f"{target:,} answers: {target / rate / 60:.0f} min at this rate")
    return minutes


def _engine_worker(spec: str, n_prompts: int, tokens: int) -> dict:
    """One engine, in this process: load, warm up on 2 prompts, then answer ``n_prompts`` greedily."""
    model = get_model(spec)
    items = _prompts(n_prompts)
    params = GenerationParams(max_new_tokens=tokens)
    reqs = [GenerationRequest(id=i.id, messages=build_messages(i.prompt), params=params) for i in items]
    t0 = time.perf_counter()
    getattr(model, "generator", None) if spec.startswith("ct2:") else model.model  # weights load lazily
    load_s = time.perf_counter() - t0
    model.generate_batch(reqs[:2])
    t0 = time.perf_counter()
    outs = model.generate_batch(reqs)
    wall = time.perf_counter() - t0
    return {"spec": spec, "answers": len(outs), "tokens": sum(o.completion_tokens for o in outs), "wall_s": wall,
            "load_s": load_s, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "texts": [o.text for o in outs]}


def bench_engines(name: str, n_prompts: int, tokens: int) -> float:
    """transformers fp32 against CTranslate2 int8, same prompts, same token budget: the answers/s ratio."""
    rows = []
    for spec in (f"gguf:{name}", f"ct2:{name}"):
        out = subprocess.run([sys.executable, __file__, "--engine-worker", spec, "--prompts", str(n_prompts),
                              "--tokens", str(tokens)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in rows:
        print(f"{r['spec']}: {r['answers']} answers, {r['tokens']} tokens in {r['wall_s']:.1f}s = "
              f"{r['answers'] / r['wall_s']:.3f} answers/s, {r['tokens'] / r['wall_s']:.1f} tok/s; "
              f"load {r['load_s']:.1f}s; peak RSS {r['peak_rss_mb']:,.0f} MB")
    hf, ct2 = rows
    same = sum(a == b for a, b in zip(hf["texts"], ct2["texts"]))
    print(f"identical answers: {same}/{len(hf['texts'])} (int8 changes some; docs/models.md measures parity)")
    return (ct2["answers"] / ct2["wall_s"]) / (hf["answers"] / hf["wall_s"])


def _start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "celm.models.mock_server", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(200):
        try:
            httpx.post(f"{url}/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]}, timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("mock server did not start")


async def _bare_loop(url: str, prompts: list[str], concurrency: int) -> None:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key="EMPTY", base_url=url, max_retries=0)
    sem = asyncio.Semaphore(concurrency)

    async def one(p):
        async with sem:
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": p}], max_tokens=256, temperature=0)

    await asyncio.gather(*(one(p) for p in prompts))
    await client.close()


def bench_layer(n_requests: int, concurrency: int) -> tuple[float, float]:
    proc, url = _start_server()
    try:
        base = load_benchmark()
        items = [base[i % len(base)].model_copy(update={"id": f"r{i}", "prompt": f"{base[i % len(base)].prompt} #{i}"})
                 for i in range(n_requests)]
        prompts = [i.prompt for i in items]
        asyncio.run(_bare_loop(url, prompts[:50], concurrency))  # warm-up
        bare, layer = [], []
        for rep in range(3):
            t0 = time.perf_counter()
            asyncio.run(_bare_loop(url, prompts, concurrency))
            bare.append(time.perf_counter() - t0)
            with tempfile.TemporaryDirectory() as tmp:
                model = get_model(f"openai:m@{url}")
                t0 = time.perf_counter()
                out = generate_responses(items, model, cache=Path(tmp) / "c.sqlite", concurrency=concurrency, progress=False)
                layer.append(time.perf_counter() - t0)
                assert out.ok
                t0 = time.perf_counter()
                again = generate_responses(items, model, cache=Path(tmp) / "c.sqlite", concurrency=concurrency, progress=False)
                cached_s = time.perf_counter() - t0
                assert again.cached == n_requests
        b, l = min(bare), min(layer)
        overhead = (l - b) / b
        print(f"bare openai loop: {n_requests} requests in {b:.2f}s = {n_requests / b:.0f} req/s (best of 3)")
        print(f"celm layer (cache + concurrency + records): {l:.2f}s = {n_requests / l:.0f} req/s; overhead {overhead:+.1%}")
        print(f"celm re-run from cache: {cached_s:.2f}s, 0 requests")
        return overhead, n_requests / l
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-gguf", action="store_true")
    parser.add_argument("--engines", action="store_true", help="only the engine comparison (transformers vs ct2)")
    parser.add_argument("--model", default=DEFAULT_CHAT_NAME, help="the built-in chat model of the engine comparison")
    parser.add_argument("--volume", type=int, metavar="N", help="only the fast engine at volume: N answers from each "
                        "built-in instruct model (--volume-models), and the time of --volume-target answers at that rate")
    parser.add_argument("--volume-models", default="qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--volume-target", type=int, default=1000)
    parser.add_argument("--engine-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_worker:
        print(json.dumps(_engine_worker(args.engine_worker, args.prompts, args.tokens), ensure_ascii=False))
        return
    if args.volume:
        minutes = bench_volume(args.volume_models.split(","), args.volume, args.tokens, args.volume_target)
        print(f"headline: {args.volume_target:,} answers x {args.tokens} tokens on ct2 int8, {os.cpu_count()} cores: "
              + ", ".join(f"{name} {m:.0f} min" for name, m in minutes)
              + f" (measured on {args.volume} answers each, the rate scaled)")
        return
    if args.engines:
        ratio = bench_engines(args.model, args.prompts, args.tokens)
        print(f"headline: ct2 int8 {ratio:.2f}x transformers fp32 answers/s ({args.model}, {args.prompts} prompts x "
              f"{args.tokens} tokens)")
        return
    overhead, rps = bench_layer(args.requests, args.concurrency)
    head = ""
    if not args.skip_gguf:
        wall = bench_batching(args.prompts, args.tokens)[0]
        ratio = bench_throughput(args.prompts, args.tokens)
        head = f"batched gguf throughput {ratio:.1f}x one-at-a-time ({wall:.1f}x wall time with stop strings); "
    print(f"headline: {head}layer overhead {overhead:+.1%} at {rps:.0f} req/s")


if __name__ == "__main__":
    main()
