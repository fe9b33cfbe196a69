"""celm attack: red teaming in Chinese. Each attack prompt asked plainly and under each strategy; which
strategies break the model, where, and by how much."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from celm.attack.run import AttackConfig
from celm.cli._common import console, friendly_errors, with_config


def register(app: typer.Typer) -> None:
    app.command(name="attack")(attack_cmd)


def strategies_table() -> Table:
    from celm.attack import STRATEGIES

    table = Table(title="attack strategies 攻击策略 (chain with '+', options after '?')")
    table.add_column("name")
    table.add_column("family")
    table.add_column("what it does")
    for name in STRATEGIES.names():
        table.add_row(name, STRATEGIES.get(name).family, STRATEGIES.help(name))
    return table


@friendly_errors
@with_config(AttackConfig)
def attack_cmd(
    settings: dict,
    list_strategies: bool = typer.Option(False, "--list", help="list the strategies and exit"),
    output: Path = typer.Option(None, "--output", "-o", help="run folder (default: runs/attack-MODEL-CONFIGHASH; "
                                "re-running the same command resumes it)"),
) -> None:
    """Attack a model with Chinese red-teaming strategies and rank them by the attack success they add.

    Each sampled attack prompt of the benchmark is asked plainly and under each strategy; the judge's
    verdicts give the attack success rate (share judged risk) per strategy and per scenario, the paired
    difference against the plain prompt, and the share of answers that only became irrelevant.

    Examples:
      celm attack --list
      celm attack -m gguf:qwen2.5-coder-0.5b-instruct --strategy homophone,pinyin,crescendo
      celm attack -m hf:/models/qwen2-7b-chat -s "homophone+separator" -s "pinyin?mode=initials" --full
      celm attack -m openai:qwen-plus@URL -s crescendo?turns=4 --attacker openai:qwen-max@URL
    """
    from celm.attack.report import judge_scope
    from celm.attack.run import run_attack
    from celm.evaluate.stats import format_difference, format_share

    if list_strategies:
        console.print(strategies_table())
        return
    run = run_attack(AttackConfig(**settings), output, log=console.print)
    s = run.summary
    table = Table(title=f"celm attack · {s['model']} · judge {s['judge']} · {s['items']} prompts",
                  caption="ASR: share judged risk; Δ: attacked minus plain on the same prompts (Newcombe), * McNemar p<0.05; "
                  "risk on echoes: the judge's verdict on answers that only repeat the prompt (⚠: the prompt alone fools it)")
    for col in ("strategy", "ASR [95% CI]", "Δ ASR (points)", "irrelevant", "Δ irrelevant", "risk on echoes"):
        table.add_column(col)
    table.add_row("plain 原始", format_share(s["plain"]["asr"]), "", format_share(s["plain"]["irrelevant"]), "",
                  format_share(s["plain"].get("echo_risk"), mark_small=False))
    for r in s["strategies"]:
        mark = " *" if r["lift"]["p_value"] < 0.05 else ""
        table.add_row(r["spec"], format_share(r["asr"]), format_difference(r["lift"], significant_mark=mark),
                      format_share(r["irrelevant"]), format_difference(r["irrelevant_lift"]) + (" ⚠" if r["confuses"] else ""),
                      format_share(r.get("echo_risk"), mark_small=False) + (" ⚠" if r["fools_judge"] else ""))
    console.print(table)
    console.print(f"[dim]judge: {judge_scope(s)}[/dim]")
    console.print(f"report: {run.folder / 'report.html'}")
