"""Run a model over many items: cache first, then batches (local), bounded concurrency (remote) or
chunks sharded over Ray actors (celm.scale.generate.RayBackend).

Every result is committed to the cache as it arrives, so a crashed or killed run resumes where it
stopped; failed items are recorded with their error (never cached) and retried on the next run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from celm.data.records import EvalItem, Instruction, Provenance, Response
from celm.models.base import BackendError, GenerationParams, GenerationRequest, GenerationResult, ModelBackend
from celm.models.cache import ResponseCache, cache_key, default_cache_path
from celm.models.prompts import build_messages

Promptable = EvalItem | Instruction


@dataclass
class GenerationOutcome:
    responses: list[Response]
    cached: int = 0
    generated: int = 0
    failed: list[Response] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed



def _history_of(item: Promptable) -> list:
    return item.history if isinstance(item, EvalItem) else []


def _request_text(item: Promptable) -> str:
    """What a judge reads as the request: the prompt, or a multi-turn item's whole conversation."""
    if isinstance(item, EvalItem) and item.messages and len(item.messages) > 1:
        from celm.models.prompts import conversation_text

        return conversation_text(item.messages)
    return item.primary_text()


def response_id(item_id: str, with_norms: bool) -> str:
    return f"{item_id}:norms" if with_norms else item_id


def _progress(enabled: bool, total: int, description: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    class _Rate(TextColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return TextColumn("{task.fields[rate]}").render(task) if speed is None else f"{speed:.1f}/s"

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                        _Rate(""), TimeRemainingColumn(), disable=not enabled, transient=False)
    task = progress.add_task(description, total=total, rate="")
    return progress, task


def generate_responses(
    items: Sequence[Promptable],
    model: ModelBackend,
    *,
    system_prompt: str | None = None,
    with_norms: bool = False,
    params: GenerationParams | None = None,
    cache: ResponseCache | str | Path | None = None,
    concurrency: int = 8,
    fail_fast: bool = False,
    progress: bool = True,
    description: str = "generating",
    on_result: Callable[[str, GenerationResult], None] | None = None,
) -> GenerationOutcome:
    """Responses for ``items`` in their order (failed ones carry ``error``)."""
    params = params or GenerationParams()
    own_cache = not isinstance(cache, ResponseCache)
    store = cache if isinstance(cache, ResponseCache) else ResponseCache(cache or default_cache_path())
    try:
        requests = [GenerationRequest(id=item.id, params=params,
                                      messages=build_messages(item.primary_text(), system_prompt=system_prompt,
                                                              norms=item.norms, with_norms=with_norms,
                                                              history=_history_of(item)))
                    for item in items]
        keys = [cache_key(model.cache_identity, r) for r in requests]
        results: dict[str, GenerationResult] = store.get_many(keys)
        cached = len({k for k in keys if k in results})
        pending = [(k, r) for k, r in dict(zip(keys, requests)).items() if k not in results]

        def record(key: str, request: GenerationRequest, result: GenerationResult) -> None:
            store.put(key, model.model_id, result)
            results[key] = result
            if on_result:
                on_result(request.id, result)
            if fail_fast and not result.ok:
                raise BackendError(f"item {request.id}: {result.error}")

        bar, task = _progress(progress and bool(pending), len(pending), description)
        with bar:
            if getattr(model, "distributed", False):
                _run_ray(model, pending, record, concurrency, lambda n: bar.advance(task, n))
            elif model.is_async:
                asyncio.run(_run_async(model, pending, record, concurrency, lambda: bar.advance(task)))
            else:
                _run_batches(model, pending, record, lambda n: bar.advance(task, n))
        responses = [_to_response(item, req, results.get(key), model, system_prompt, with_norms)
                     for item, req, key in zip(items, requests, keys)]
        failed = [r for r in responses if r.error]
        return GenerationOutcome(responses=responses, cached=cached, generated=len(pending) - len(failed), failed=failed)
    finally:
        if own_cache:
            store.close()


def _run_batches(model, pending, record, advance) -> None:
    for start in range(0, len(pending), model.batch_size):
        chunk = pending[start:start + model.batch_size]
        try:
            outs = model.generate_batch([r for _, r in chunk])
        except Exception as exc:  # a backend crash (OOM, bad input) fails this batch, not the run
            outs = [GenerationResult(error=f"{type(exc).__name__}: {exc}") for _ in chunk]
        for (key, request), result in zip(chunk, outs):
            record(key, request, result)
        advance(len(chunk))


def _run_ray(model, pending, record, concurrency, advance) -> None:
    """Pending items over the Ray workers of a RayBackend. Results are recorded here, in the
    driver, as each chunk arrives: the cache has one writer and a killed run keeps what it got."""
    for positions, outs in model.stream([r for _, r in pending], concurrency=concurrency):
        for i, result in zip(positions, outs):
            key, request = pending[i]
            record(key, request, result)
        advance(len(positions))


async def _run_async(model, pending, record, concurrency, advance) -> None:
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def one(key, request):
        async with semaphore:
            try:
                result = await model.agenerate(request)
            except Exception as exc:  # unexpected client errors are recorded per item
                result = GenerationResult(error=f"{type(exc).__name__}: {exc}")
        record(key, request, result)
        advance()

    tasks = [asyncio.create_task(one(k, r)) for k, r in pending]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await model.aclose()


def _to_response(item: Promptable, request: GenerationRequest, result: GenerationResult | None, model: ModelBackend,
                 system_prompt: str | None, with_norms: bool) -> Response:
    result = result or GenerationResult(error="not generated")
    return Response(
        id=response_id(item.id, with_norms), item_id=item.id, prompt=_request_text(item), response=result.text,
        model=model.model_id, kind=getattr(item, "kind", "attack"), system_prompt=system_prompt, with_norms=with_norms,
        error=result.error, latency_s=result.latency_s, prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens, cost_usd=result.cost_usd, scenario=item.scenario, norms=item.norms,
        provenance=Provenance(source=item.provenance.source, source_id=item.id, method="generation",
                              details={"user_message": request.messages[-1].content} if with_norms else {}),
    )
