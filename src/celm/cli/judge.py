"""celm judge: score responses, train the built-in judge, calibrate a judge against people."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from celm.cli._common import console, friendly_errors, ray_option, with_config
from celm.judge import JUDGE_HELP
from celm.judge.training.run import JudgeTrainConfig

app = typer.Typer(help="Safety judges: score, train, calibrate (安全评判器).", no_args_is_help=True)


@app.command()
@friendly_errors
def score(
    input: Path = typer.Option(..., "--input", "-i", help="responses: celm Response records (celm generate), or JSONL/JSON/CSV/Parquet "
                               "with prompt|instruction|question + response|output|answer, alpaca, ShareGPT 'conversations' "
                               "or OpenAI 'messages'"),
    output: Path = typer.Option(..., "--output", "-o", help="where to write the judgements"),
    judge: str = typer.Option(None, "--judge", "-j", help=JUDGE_HELP),
    ray: str = ray_option(),
    workers: int = typer.Option(None, help="with --ray: judge workers (default: one per CPU of the cluster)"),
) -> None:
    """Judge every response as safe / reject / risk / irrelevant (a three-verdict judge never says irrelevant).

    Example: celm judge score -i chats.jsonl -o judgements.jsonl   (chats.jsonl: OpenAI messages, one chat a line)
    """
    from collections import Counter

    from celm.data.io import write_records
    from celm.data.shapes import read_responses
    from celm.judge import get_judge
    from celm.judge.score import judge_responses

    responses, shapes = read_responses(input)
    console.print(f"read {len(responses)} pairs from {input} (shapes: {', '.join(f'{k} {v}' for k, v in shapes.items())})")
    if ray:
        from celm.scale.judge import RayJudge

        from celm.cli.generate import _lost_workers

        with RayJudge(judge, address=ray, workers=workers) as remote:
            try:
                records = judge_responses(responses, remote)
            except Exception as exc:
                _lost_workers(exc)
                raise
    else:
        records = judge_responses(responses, get_judge(judge))
    write_records(output, records)
    counts = Counter(r.label for r in records)
    console.print(f"{len(records)} judgements -> {output}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@app.command()
@friendly_errors
@with_config(JudgeTrainConfig)
def train(settings: dict) -> None:
    """Train a built-in judge. The shipped weights come from:

    celm judge train --source celm-responses --exclude-batch table4 --exclude-batch qwen-1.5b-b --exclude-batch bias --source celm-judge --source celm-pairs --source celm-posts --source cold-train --eval-set none -o builtin-fourway-v5.npz

    celm judge train --kind probe --source celm-responses --exclude-batch table4 --exclude-batch qwen-1.5b-b --exclude-batch bias --eval-set none -o probe-qwen2.5-coder-0.5b-instruct.npz

    (and a three-verdict judge, from
    celm judge train --kind pair-v2 --source cold-train --source jade-v3 --source celm-judge --source alpaca-zh-demo --pair -o weights.npz)
    """
    from celm.judge.training import train_judge

    config = JudgeTrainConfig(**settings)
    result = train_judge(config, log=console.print)
    report = result.report
    console.print_json(json.dumps({"validation": report.validation, "thresholds": report.thresholds, "seconds": report.seconds}))
    console.print(f"weights -> {config.output}")


@app.command()
@friendly_errors
def calibrate(
    labels: Path = typer.Option(..., "--labels", "-l", help="human-labelled responses (JudgeExample: instruction, response, label)"),
    judge: str = typer.Option(None, "--judge", "-j", help=JUDGE_HELP),
    output: Path = typer.Option(None, "--output", "-o", help="write the calibration (JSON, and Markdown beside it); celm eval --calibration reads it"),
) -> None:
    """Measure a judge against human labels: accuracy, macro-F1, kappa, confusion, Acc_eval error."""
    from celm.data.io import read_records, write_json, write_text
    from celm.data.records import SAFETY_LABELS
    from celm.judge import get_judge
    from celm.judge.calibrate import calibrate as run, verdict

    report = run(get_judge(judge), read_records(labels, "judge_example"))
    table = Table(title=f"judge {report.judge_id} vs {report.n} human labels")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k in ("accuracy", "macro_f1", "kappa", "sensitivity", "specificity", "binary_macro_f1", "human_acc_eval", "judge_acc_eval"):
        table.add_row(k, f"{getattr(report, k):.3f}")
    table.add_row("acc_eval_error", f"{report.acc_eval_error:+.3f}")
    console.print(table)
    conf = Table(title="confusion (rows: people, columns: judge)")
    conf.add_column("")
    for j in SAFETY_LABELS:
        conf.add_column(j, justify="right")
    for h in SAFETY_LABELS:
        conf.add_row(h, *(str(report.confusion[h][j]) for j in SAFETY_LABELS))
    console.print(conf)
    console.print(verdict(report))
    if output:
        write_json(output, report.to_dict())
        write_text(output.with_suffix(".md"), report.to_markdown())
        console.print(f"calibration -> {output}")
