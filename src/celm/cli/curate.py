"""celm curate: the paper's curation stages, one at a time or chained from a YAML file."""

from __future__ import annotations

from pathlib import Path

import typer

from celm.cli._common import console, friendly_errors, ray_option, with_config

app = typer.Typer(help="Curate data: normalise, dedup, inject, paraphrase, filter, classify, norms, split (数据整理).",
                  no_args_is_help=True)
IN_HELP = "celm files or registered source names (repeat)"


def _stage(name: str, inputs: list[str], output: Path, **params) -> None:
    """Run one stage; write its records to OUTPUT and its report to OUTPUT.report.json."""
    from celm.curate.engine import run_stage
    from celm.curate.pipeline import load_inputs, write_record_set
    from celm.curate.stages import StageContext
    from celm.data.io import write_json, write_records

    records = load_inputs(inputs)
    result, report = run_stage(name, records, StageContext(seed=params.pop("seed", 0), progress=True), **params)
    if isinstance(result, dict):
        for split_name, recs in result.items():
            write_record_set(output, split_name, recs)
        report_path = output / "split.report.json"
    else:
        write_records(output, result)
        report_path = output.with_name(output.name + ".report.json")
    write_json(report_path, report.model_dump(mode="json"))
    console.print(report.summary(), highlight=False)
    console.print(f"report: {report_path}")


@app.command()
@friendly_errors
def run(
    config: Path = typer.Argument(..., help="pipeline YAML (see docs/curation.md)"),
    output: Path = typer.Option(None, "--output", "-o", help="override the config's output folder"),
    seed: int = typer.Option(None, help="override the config's seed"),
    ray: str = ray_option(),
) -> None:
    """Run a whole pipeline: each stage's report, the curated records, summary.md.

    Records stream through in chunks, so a pool of millions fits in a few GiB. With --ray the
    stages run on Ray Data (dedup as distributed MinHash LSH) and write the same files, byte for
    byte.

    Examples: celm curate run pipeline.yaml -o runs/curate
              celm curate run pipeline.yaml --ray               (a local Ray on this machine)
              celm curate run pipeline.yaml --ray 10.0.0.5:6379 (a running cluster)
    """
    from celm.curate.engine import run_pipeline
    from celm.curate.pipeline import PipelineConfig

    cfg = PipelineConfig.from_yaml(config, output=output, seed=seed)
    summary = run_pipeline(cfg, log=lambda m: console.print(m, highlight=False), progress=True, ray=ray)
    console.print(f"[green]{summary['final']} records[/green] -> {cfg.output}/ ({', '.join(summary['files'])}); see summary.md")


def _stage_command(name: str):
    """``celm curate NAME``: one option per field of the stage's params (its class says each one's
    help and flags), so a new stage's file is all it takes to get a command."""
    from celm.curate.stages import STAGES

    cls = STAGES.get(name)
    out_help = ("the folder for the record sets it writes (one JSONL file each, and the report)" if getattr(cls, "routes", False)
                else "the file to write; its report goes beside it (OUTPUT.report.json)")

    @with_config(cls.Params)
    def command(
        settings: dict,
        inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
        output: Path = typer.Option(..., "--output", "-o", help=out_help),
        seed: int = typer.Option(0, help="seed of every random choice the stage makes"),
    ) -> None:
        _stage(name, inputs, output, seed=seed, **settings)

    command.__doc__ = (cls.__doc__ or name).strip() + f"\n\nIn a pipeline file: the `{name}:` step takes the same settings."
    return friendly_errors(command)


def _add_stage_commands() -> None:
    from celm.curate.stages import STAGES

    for name in STAGES.names():
        app.command(name)(_stage_command(name))


_add_stage_commands()


@app.command("train-classifier")
@friendly_errors
def train_classifier(source: list[str] = typer.Option(..., "--source", "-s", help="labelled sources/files (repeat)"),
                     output: Path = typer.Option(..., "--output", "-o", help="classifier file (.npz: plain arrays, never a pickle)"),
                     test_share: float = typer.Option(0.3, help="share held out to report accuracy"),
                     seed: int = typer.Option(0)) -> None:
    """Train the scenario classifier on labelled data, report held-out accuracy, save it trained on all."""
    from celm.curate.classify import ScenarioClassifier, evaluate_classifier
    from celm.curate.pipeline import load_inputs
    from celm.data.bundled import load_benchmark, load_sft_examples

    labelled = load_inputs(source)
    base = [*load_benchmark(), *load_sft_examples()]
    result = evaluate_classifier(labelled, base=base, test_share=test_share, seed=seed)
    console.print(f"held-out accuracy {result['accuracy']:.3f} (macro-F1 {result['macro_f1']:.3f}) on {result['test']} items; "
                  f"{result['coverage_at_threshold']:.0%} above the threshold, {result['accuracy_when_covered']:.3f} accurate there")
    ScenarioClassifier.train([*base, *labelled], seed=seed).save(output)
    console.print(f"classifier -> {output}")
