"""celm data: validate, inspect, convert and export celm datasets."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from celm.cli._common import console, friendly_errors
from celm.data.records import RECORD_TYPES

app = typer.Typer(help="Validate, inspect, convert and export datasets (数据校验、统计、转换与导出).", no_args_is_help=True)

TYPE_HELP = f"record type ({', '.join(RECORD_TYPES)}); guessed from the fields when left out"


@app.command()
@friendly_errors
def validate(
    files: list[Path] = typer.Argument(..., help="JSONL, JSONL.gz, JSON, Parquet, CSV files or saved HF datasets"),
    record_type: str = typer.Option(None, "--type", help=TYPE_HELP),
) -> None:
    """Check every row; list each bad row as file:line: field: reason (exit 2 if any)."""
    from celm.data.io import read_records

    for f in files:
        records = read_records(f, record_type)
        console.print(f"[green]ok[/green] {f}: {len(records)} {type(records[0]).record_type if records else ''} records")


@app.command()
@friendly_errors
def stats(
    files: list[Path] = typer.Argument(None, help="files to describe; a source name with --source"),
    source: str = typer.Option(None, help="describe a registered source instead, e.g. celm-bench or jade-v3"),
    record_type: str = typer.Option(None, "--type", help=TYPE_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the statistics as JSON"),
) -> None:
    """Counts per scenario and domain, text lengths, norm coverage and duplicate rate."""
    from celm.data.io import read_many
    from celm.data.sources import load_source
    from celm.data.stats import compute_stats
    from celm.taxonomy import get_taxonomy

    records = load_source(source) if source else read_many(files or [], record_type)
    st = compute_stats(records)
    if as_json:
        print(json.dumps(st.to_dict(), ensure_ascii=False, indent=2))
        return
    tax = get_taxonomy()
    console.print(f"[bold]{st.total}[/bold] records {st.record_types}; China-centric: {st.china_centric}; "
                  f"duplicates: {st.duplicates} ({st.duplicate_rate:.1%})")
    table = Table(title="per scenario")
    table.add_column("scenario")
    table.add_column("场景")
    table.add_column("domain")
    table.add_column("n", justify="right")
    for sid, n in st.by_scenario.items():
        sc = tax.scenario(sid) if sid in tax.scenario_ids else None
        table.add_row(sid, sc.name_zh if sc else "", sc.domain if sc else "", str(n))
    console.print(table)
    console.print(f"domains: {st.by_domain}")
    console.print(f"text length (chars): {st.length}")
    console.print(f"norms used: {st.norms_used}/17; records with norms: {st.records_with_norms}")


@app.command()
@friendly_errors
def convert(
    src: Path = typer.Argument(..., help="input file"),
    dst: Path = typer.Argument(..., help="output file; the format follows the suffix (.jsonl, .jsonl.gz, .parquet, .csv, or a folder for an HF dataset)"),
    record_type: str = typer.Option(None, "--type", help=TYPE_HELP),
    excel: bool = typer.Option(False, help="write CSV with a BOM so Excel shows Chinese correctly"),
) -> None:
    """Convert between formats (validated; written atomically)."""
    from celm.data.io import read_records, write_records

    records = read_records(src, record_type)
    write_records(dst, records, excel=excel)
    console.print(f"wrote {len(records)} records to {dst}")


@app.command()
@friendly_errors
def export(
    inputs: list[Path] = typer.Argument(None, help="celm SFT, preference or eval files; the bundled data when left out"),
    to: str = typer.Option(..., "--to", help="llamafactory | trl | hf"),
    output: Path = typer.Option(..., "--output", "-o", help="folder to write"),
) -> None:
    """Export datasets for LLaMA-Factory, TRL or Hugging Face datasets.

    Example: celm data export --to llamafactory --output out/lf
    """
    from celm.data.exports import DatasetBundle, export as do_export
    from celm.data.io import read_many

    bundle = DatasetBundle.from_records(read_many(inputs)) if inputs else DatasetBundle.bundled()
    files = do_export(bundle, to, output)
    console.print(f"exported {len(bundle.sft)} SFT, {len(bundle.preference)} preference, {len(bundle.eval)} eval records as {to}:")
    for f in files:
        console.print(f"  {f}")


@app.command()
@friendly_errors
def sources() -> None:
    """List the registered dataset sources."""
    from celm.data.sources import SOURCES

    table = Table(title="sources")
    table.add_column("name")
    table.add_column("what")
    for entry in SOURCES.describe():
        table.add_row(entry["name"], entry["help"])
    console.print(table)


@app.command()
@friendly_errors
def load(
    source: str = typer.Argument(..., help="a registered source name (celm data sources lists them)"),
    output: Path = typer.Option(..., "--output", "-o", help="where to write the records"),
    path: Path = typer.Option(None, help="the source's file or folder (default: $CELM_SHARED_DATA or ../shared/data)"),
) -> None:
    """Load a public or bundled source as celm records and write them."""
    from celm.data.io import write_records
    from celm.data.sources import load_source

    records = load_source(source, path)
    write_records(output, records)
    console.print(f"wrote {len(records)} records from {source} to {output}")
