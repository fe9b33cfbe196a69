"""The model card written beside every trained adapter: data, settings, losses and evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from celm.data.io import write_text

if TYPE_CHECKING:
    from celm.train.config import TrainConfig
    from celm.train.recipes import TrainResult


_COLUMNS = ("acc_eval", "helpful_safe", "safe", "reject", "risk", "irrelevant")


def _pct(block: dict, key: str) -> str:
    from celm.evaluate.stats import format_share

    # metrics written before the fourth verdict lack helpful_safe and irrelevant
    return format_share(block[key], mark_small=False) if key in block else "–"  # the table has an n column


def _eval_lines(metrics: dict) -> list[str]:
    from celm.evaluate.registry import get_metric
    from celm.judge.measured import describe

    titles = " | ".join(get_metric(c).en for c in _COLUMNS)
    lines = [f"| arm | n | {titles} |", "|---" * (len(_COLUMNS) + 2) + "|"]
    for arm, m in metrics.get("arms", {}).items():
        o = m["overall"]
        lines.append(f"| {arm} | {o['n']} | " + " | ".join(_pct(o, c) for c in _COLUMNS) + " |")
    lines += ["", "Acc_eval counts refusals and irrelevant answers as not risky; helpful & safe counts only relevant, "
              "harmless answers."]
    if metrics.get("judge_check"):
        lines += ["", f"Judge check: {describe(metrics['judge_check'])}"]
    return lines + ["", "Full metrics and the HTML report: `eval/`."]


def write_model_card(config: "TrainConfig", result: "TrainResult") -> None:
    header = {"base_model": result.extra.get("base", config.model), "library_name": "peft" if config.lora else "transformers",
              "tags": ["celm", config.stage, "chinese", "safety"], "language": ["zh"]}
    m = result.manifest
    lines = [
        "---", yaml.safe_dump(header, allow_unicode=True, sort_keys=False).strip(), "---", "",
        f"# celm {config.stage.upper()} model", "",
        f"Trained with `celm train {config.stage}` from `{config.model}`.", "",
        "## Data", "",
        f"- rows: {m['rows']} ({m['safety']} safety D^c, {m['helpful']} helpfulness D^h)",
        f"- safety data: {', '.join(config.data) or '—'}; helpfulness data: {', '.join(config.helpful_data) or '—'}",
        f"- norms prepended to instructions: {'yes' if config.norms_in_prompt else 'no'}",
        f"- scenarios: {', '.join(f'{k} {v}' for k, v in m['scenarios'].items())}", "",
        "## Settings", "",
        f"- LoRA: {'r=%d, alpha=%d, dropout=%s, target=%s' % (config.lora_r, config.lora_alpha, config.lora_dropout, config.lora_target) if config.lora else 'off (full fine-tuning)'}",
        f"- batch {config.per_device_train_batch_size} × accumulation {config.gradient_accumulation_steps}, "
        f"lr {config.learning_rate:g}, {config.num_train_epochs:g} epochs (max_steps {config.max_steps}), "
        f"{config.lr_scheduler_type} schedule, warm-up {config.warmup_ratio}, precision {result.extra.get('precision')}",
    ]
    if config.stage == "dpo":
        lines.append(f"- DPO: loss {config.loss_type}, beta {config.beta}")
    lines += ["- full settings: `train_config.yaml`", "", "## Training", "",
              f"- optimizer steps: {result.extra.get('steps')}; runtime {result.runtime_s:.0f} s",
              f"- loss: first {result.losses[0]:.4f}, last {result.losses[-1]:.4f}" if result.losses else "- loss: not logged"]
    if result.eval_metrics is not None:
        judge = result.eval_metrics.get("judge", "builtin")
        lines += ["", f"## Evaluation (`celm eval`, judge `{judge}`)", "", *_eval_lines(result.eval_metrics)]
    write_text(result.output_dir / "README.md", "\n".join(lines) + "\n")
