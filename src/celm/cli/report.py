"""celm report: re-render a run's reports, or compare runs side by side."""

from __future__ import annotations

from pathlib import Path

import typer

from celm.cli._common import console, friendly_errors

app = typer.Typer(help="Reports and comparisons of evaluation runs (评测报告与对比).", no_args_is_help=True)


@app.command()
@friendly_errors
def show(run: Path = typer.Argument(..., help="a run folder from celm eval")) -> None:
    """Re-render report.md and report.html from a finished run's files and print the headline."""
    from celm.cli.evaluate import headline_table
    from celm.evaluate.log import RunFolder
    from celm.evaluate.report import rereport

    metrics = rereport(run)
    console.print(headline_table(metrics))
    console.print(f"reports -> {RunFolder(run).report_html}, {RunFolder(run).report_md}")


@app.command()
@friendly_errors
def compare(
    runs: list[Path] = typer.Argument(..., help="run folders to compare (the first is the reference); a `celm loop` folder stands for each of its rounds"),
    output: Path = typer.Option(None, "--output", "-o", help="also write the comparison as Markdown"),
    labels: list[str] = typer.Option(None, "--label", help="a name per run (default: the model)"),
) -> None:
    """Side-by-side tables in the layout of the paper's tables 3-6, with intervals and significance marks."""
    from celm.data.io import write_text
    from celm.evaluate.compare import compare_runs

    md = compare_runs(runs, labels=labels)
    console.print(md, markup=False, highlight=False, soft_wrap=True)
    if output:
        write_text(output, md)


@app.command()
@friendly_errors
def human(
    run: Path = typer.Argument(..., help="a run folder from celm eval"),
    labels: Path = typer.Option(..., "--labels", "-l", help="JudgeExample labels by people (annotation app: export `labels`)"),
) -> None:
    """Add people's labels to a finished run: people and the judge side by side (paper table 3), no model calls.

    Example: celm report human runs/x --labels batch1-labels.jsonl
    """
    from celm.evaluate.human import add_human_labels, markdown

    console.print(markdown(add_human_labels(run, labels)), highlight=False)
