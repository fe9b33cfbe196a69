"""celm judge: score responses, train the built-in judge, calibrate a judge against people."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from celm.cli._common import console, friendly_errors, ray_option
from celm.judge import JUDGE_HELP

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
def train(
    data: list[Path] = typer.Option(None, "--data", "-d", help="JudgeExample, PreferencePair, Rating+Response files"),
    source: list[str] = typer.Option(None, "--source", help="registered sources to train on, e.g. cold-train jade-v3 celm-judge"),
    output: Path = typer.Option(..., "--output", "-o", help="weights file to write (.npz)"),
    eval_set: list[str] = typer.Option(["celm-bench"], "--eval-set", help="sources or files the judge will score; near-duplicate training instructions are refused ('none': no check)"),
    drop_overlap: bool = typer.Option(False, help="drop overlapping training examples instead of refusing"),
    no_embeddings: bool = typer.Option(False, help="train only the fast character n-gram model"),
    pair: bool = typer.Option(False, "--pair", help="the embedding model also reads the instruction: use it when you train on "
                              "ordinary helpful answers beside safety data (slower: two embeddings per uncertain item)"),
    kind: str = typer.Option("fourway", help="fourway: the four-verdict pair judge (safe/reject/risk/irrelevant); "
                             "probe: four verdicts from a chat model's hidden states (--probe-model, --layer); "
                             "pair-v2: the earlier three-verdict judge"),
    probe_model: str = typer.Option("gguf:qwen2.5-coder-0.5b-instruct", help="probe: the chat model that reads the pairs (gguf:NAME, hf:PATH)"),
    layer: int = typer.Option(14, help="probe: the hidden layer whose mean state the probe reads"),
    device: str = typer.Option("auto", help="probe: where the chat model runs (auto, cpu, cuda)"),
    request_pool: bool = typer.Option(True, help="fourway: learn how harmful a request looks from the public prompt sets"),
    exclude_batch: list[str] = typer.Option(None, "--exclude-batch", help="leave out labelled responses of this labelling batch "
                                            "(celm-responses: table4), to measure the judge on them afterwards"),
    seed: int = typer.Option(0),
) -> None:
    """Train a built-in judge. The shipped weights come from:

    celm judge train --source celm-responses --exclude-batch table4 --exclude-batch qwen-1.5b-b --exclude-batch bias --source celm-judge --source celm-pairs --source celm-posts --source cold-train --eval-set none -o builtin-fourway-v5.npz

    celm judge train --kind probe --source celm-responses --exclude-batch table4 --exclude-batch qwen-1.5b-b --exclude-batch bias --eval-set none -o probe-qwen2.5-coder-0.5b-instruct.npz

    (and the earlier three-verdict judge, builtin:pair-v2, from
    celm judge train --kind pair-v2 --source cold-train --source jade-v3 --source celm-judge --source alpaca-zh-demo --pair -o weights.npz)
    """
    from celm.data.io import read_many
    from celm.data.sources import load_file_or_source, load_source
    from celm.data.stats import primary_text
    from celm.judge.train import LeakageError, check_leakage, to_judge_examples, train_builtin, without_batches

    records = list(read_many(data or []))
    for name in source or []:
        records += load_source(name)
    examples = to_judge_examples(without_batches(records, exclude_batch or []))
    if not examples:
        raise ValueError("no training examples: give --data files or --source names")
    eval_prompts = []
    for name in eval_set or []:
        if name == "none":
            continue
        recs = load_file_or_source(name)
        eval_prompts += [primary_text(r) for r in recs]
    leaks = check_leakage(examples, eval_prompts)
    if leaks:
        shown = "\n".join(f"  {i}: ~{p[:40]} ({s:.2f})" for i, p, s in leaks[:10])
        if not drop_overlap:
            raise LeakageError(f"{len(leaks)} training example(s) near-duplicate the evaluation set; the judge must not "
                               f"train on what it will judge (use --drop-overlap to drop them):\n{shown}")
        bad = {i for i, _, _ in leaks}
        examples = [e for e in examples if e.id not in bad]
        console.print(f"[yellow]dropped {len(bad)} examples that overlap the evaluation set[/yellow]")
    command = ("celm judge train " + " ".join(f"--source {s}" for s in source or []) + f" --kind {kind}"
               + "".join(f" --exclude-batch {b}" for b in exclude_batch or []))
    if kind == "fourway":
        from celm.judge.train_fourway import default_request_pool, train_fourway

        pool = default_request_pool() if request_pool else ()
        model, report = train_fourway(examples, request_pool=pool, seed=seed, embeddings=not no_embeddings, progress=console.print)
    elif kind == "probe":
        from celm.judge.train_probe import train_probe

        model, report = train_probe(examples, model_spec=probe_model, layer=layer, device=device, seed=seed, progress=console.print)
        command += f" --probe-model {probe_model} --layer {layer}"
    elif kind == "pair-v2":
        model, report = train_builtin(examples, seed=seed, embeddings=not no_embeddings, pair=pair, progress=console.print)
    else:
        raise ValueError(f"--kind must be fourway, probe or pair-v2, not {kind!r}")
    model.card = {"command": command + (" --pair" if pair else ""), "counts": report.counts,
                  "validation": report.validation, "thresholds": report.thresholds}
    model.save(output)
    console.print_json(json.dumps({"validation": report.validation, "thresholds": report.thresholds, "seconds": report.seconds}))
    console.print(f"weights -> {output}")


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
