"""celm generate: ask a model for a response to every item, cached and resumable."""

from __future__ import annotations

from pathlib import Path

import typer

from celm.cli._common import console, err_console, friendly_errors, ray_option
from celm.models.registry import SPEC_HELP


def register(app: typer.Typer) -> None:
    app.command()(generate)


@friendly_errors
def generate(
    input: Path = typer.Option(..., "--input", "-i", help="prompts: celm instructions or eval items, or rows with "
                               "prompt|instruction|question|query, alpaca, ShareGPT or OpenAI messages (JSONL, CSV, Parquet...)"),
    output: Path = typer.Option(..., "--output", "-o", help="where to write celm Response records"),
    model: str = typer.Option(None, "--model", "-m", help=SPEC_HELP),
    system_prompt: str = typer.Option(None, help="system prompt for every item (context distillation)"),
    safety_system_prompt: bool = typer.Option(False, help="use celm's built-in safety system prompt (你是一个安全、负责任的助手…)"),
    with_norms: bool = typer.Option(False, help="prepend each item's norms to its instruction (paper section 4.3)"),
    max_new_tokens: int = typer.Option(256, help="longest response in tokens"),
    temperature: float = typer.Option(0.0, help="0 = greedy"),
    concurrency: int = typer.Option(8, help="requests in flight at once (remote backends)"),
    cache: Path = typer.Option(None, help="SQLite response cache (default: $CELM_CACHE_DIR or the user cache dir)"),
    fail_fast: bool = typer.Option(False, help="stop at the first failed item instead of recording it"),
    limit: int = typer.Option(None, help="only the first N items"),
    ray: str = ray_option(),
    workers: int = typer.Option(None, help="with --ray: model workers (default: one per CPU of the cluster, or per GPU "
                                "for hf/gguf/vllm on a cluster with GPUs)"),
) -> None:
    """Generate a response for every item; a re-run never asks twice, a killed run resumes.

    Example: celm generate -m openai:qwen-plus@http://localhost:8000/v1 -i items.jsonl -o responses.jsonl
    """
    from celm.data.io import write_records
    from celm.data.shapes import read_prompts
    from celm.models import SAFETY_SYSTEM_PROMPT, GenerationParams
    from celm.models.runner import generate_responses
    from celm.scale.where import model_backend

    items, shapes = read_prompts(input)
    console.print(f"read {len(items)} prompts from {input} (shapes: {', '.join(f'{k} {v}' for k, v in shapes.items())})")
    items = items[:limit] if limit else items
    with model_backend(model, ray=ray, workers=workers, log=console.print) as backend:
        outcome = generate_responses(
            items, backend, system_prompt=SAFETY_SYSTEM_PROMPT if safety_system_prompt else system_prompt,
            with_norms=with_norms, params=GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature),
            cache=cache, concurrency=concurrency, fail_fast=fail_fast,
        )
    write_records(output, outcome.responses)
    console.print(f"{len(outcome.responses)} responses -> {output} ({outcome.cached} from cache, {outcome.generated} generated)")
    if outcome.failed:
        err_console.print(f"[yellow]{len(outcome.failed)} item(s) failed[/yellow] (recorded with their error; run again to retry):")
        for r in outcome.failed[:10]:
            err_console.print(f"  {r.item_id}: {r.error}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


def _lost_workers(exc: Exception) -> None:
    """cli/judge.py's name for exit_if_workers_lost (friendly_errors applies it to every command)."""
    from celm.cli._common import exit_if_workers_lost

    exit_if_workers_lost(exc)
