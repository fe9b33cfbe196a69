"""celm loop: the paper's iterative self-training loop (section 3.3), resumable, one YAML file."""

from __future__ import annotations

from pathlib import Path

import typer

from celm.cli._common import console, friendly_errors, with_config
from celm.loop.config import LoopConfig
from celm.models.defaults import DEFAULT_LOOP_MODEL

app = typer.Typer(help="Rounds of generate → rate → pair → SFT → DPO → evaluate (迭代对齐). "
                       "Needs `pip install 'celm\\[train]'` (and `celm\\[server]` for the app rater).",
                  no_args_is_help=True)


@app.command("run")
@friendly_errors
@with_config(LoopConfig)
def run(
    settings: dict,
    config: Path = typer.Argument(None, help="loop.yaml (see `celm loop example`); omitted when resuming OUTPUT"),
    output: Path = typer.Option(..., "--output", "-o", help="the loop folder; run the same command again to resume it"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bars"),
) -> None:
    """Run (or resume) a loop: round 0 evaluates the starting model, each later round trains on its own ratings.

    Example: celm loop example > loop.yaml && celm loop run loop.yaml -o runs/loop
    Resume after a crash or kill -9: celm loop run -o runs/loop
    Extend a finished loop by a round: celm loop run -o runs/loop --rounds 3
    The sections of loop.yaml (pool, responses, rater, sft, dpo, eval) are set in the file.
    """
    from celm.loop import load_loop_config, run_loop
    from celm.loop.folder import LoopFolder

    if config is None and not LoopFolder.is_loop(output):
        raise typer.BadParameter(f"{output} is not a loop folder yet: give a loop.yaml")
    cfg = load_loop_config(config or LoopFolder(output).config_yaml, **settings)
    result = run_loop(cfg, output, progress=progress, log=console.print)
    for r in result.rounds:
        console.print(f"round {r['round']}: Acc_eval {r['acc_eval']['value'] * 100:.1f}%, "
                      f"helpful & safe {r['helpful_safe']['value'] * 100:.1f}%"
                      + (f" (rated by {r['rater']}, {'people' if r['rater_kind'] == 'human' else 'automatic'})" if r["rater"] else ""))
    console.print(f"[green]report[/green] {result.folder / 'report.md'} and report.html")


@app.command("report")
@friendly_errors
def report(folder: Path = typer.Argument(..., help="a loop folder")) -> None:
    """Re-write a loop folder's rounds.json, report.md and report.html from its files (no model is loaded)."""
    from celm.loop import write_loop_report

    rows = write_loop_report(folder)
    console.print(f"{len(rows)} finished round(s); {folder / 'report.md'}")


@app.command("example")
def example() -> None:
    """Print a commented loop.yaml with every setting at its default."""
    print(EXAMPLE)


EXAMPLE = """\
# celm loop: every setting with its default. Remove what you don't change.
model: DEFAULT_LOOP_MODEL       # the starting model: ct2:NAME, gguf:NAME, hf:PATH (trained rounds stay on its engine)
model_options: repetition_penalty=1.3&batch_size=16   # the same decoding every round
rounds: 2
seed: 0
pool:                            # new instructions each round (the evaluation's prompts are left out)
  sources: [celm-bench]          # prompt files or registered sources
  per_round: 40
  kinds: [attack, benign]
responses:
  samples: 2                     # answers without a system prompt
  distilled: 1                   # answers with the safety system prompt (context distillation)
  temperature: 0.8
  top_p: 0.95
  max_new_tokens: 128
rater:
  spec: judge:builtin            # judge:SPEC or llm:MODEL (automatic), app:http://HOST:PORT (people)
  username: admin                # app: the admin account; its password in $CELM_APP_PASSWORD
  password_env: CELM_APP_PASSWORD
  poll_s: 30
  timeout_s: null
sft:
  enabled: true
  settings: {}                   # TrainConfig fields over appendix A.3, e.g. {num_train_epochs: 1}
dpo:
  enabled: true
  settings: {}                   # DPO: lr 5e-6, beta 0.1, sigmoid loss by default
eval:
  benchmarks: [celm-bench]
  judge: builtin
  attacks_per_scenario: 4
  benign_per_scenario: 2
  max_new_tokens: 64
  seed: 0
""".replace("DEFAULT_LOOP_MODEL      ", f"{DEFAULT_LOOP_MODEL:<24}")
