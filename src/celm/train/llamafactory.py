"""``celm train export-llamafactory``: datasets, ``dataset_info.json`` and LLaMA-Factory YAML configs.

The configs carry the same settings as ``celm train`` (appendix A.3) under LLaMA-Factory's own
keys, so a team that trains there runs ``llamafactory-cli train sft.yaml`` and gets the paper's recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from celm.data.exports import DatasetBundle, export
from celm.data.exports.llamafactory import PREF_NAME, SFT_NAME
from celm.data.io import write_text
from celm.train.config import DEFAULT_LR, TrainConfig

def _model_path(spec: str) -> str:
    """Built-in models by their hub id: LLaMA-Factory runs elsewhere and cannot see celm's cache."""
    from celm.models.registry import weights_folder

    return weights_folder(spec, hub=True)


def lf_config(stage: str, config: TrainConfig, dataset_dir: str, template: str) -> dict[str, Any]:
    """One LLaMA-Factory training config (the keys of its ``examples/train_lora/*.yaml``)."""
    lr = config.learning_rate if config.stage == stage else DEFAULT_LR[stage]
    cfg: dict[str, Any] = {
        "model_name_or_path": _model_path(config.model),
        "stage": stage, "do_train": True,
        "finetuning_type": "lora" if config.lora else "full",
        "dataset": SFT_NAME if stage == "sft" else PREF_NAME,
        "dataset_dir": dataset_dir, "template": template, "cutoff_len": config.max_length,
        "output_dir": f"saves/celm/{stage}", "logging_steps": config.logging_steps, "save_steps": config.save_steps,
        "plot_loss": True, "overwrite_output_dir": True, "report_to": "none",
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "learning_rate": lr, "num_train_epochs": config.num_train_epochs,
        "lr_scheduler_type": config.lr_scheduler_type, "warmup_ratio": config.warmup_ratio,
        "fp16": True,  # the paper trains in FP16; set bf16: true instead on Ampere or newer
        "seed": config.seed,
    }
    if config.lora:
        cfg.update(lora_rank=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                   lora_target="all" if config.lora_target == "all-linear" else config.lora_target)
    if config.max_steps > 0:
        cfg["max_steps"] = config.max_steps
    if stage == "dpo":
        cfg.update(pref_beta=config.beta, pref_loss=config.loss_type)
    return cfg


def export_llamafactory(output: str | Path, bundle: DatasetBundle | None = None, config: TrainConfig | None = None,
                        *, template: str = "default") -> list[Path]:
    """Write datasets (the bundled data when ``bundle`` is None) and ``sft.yaml``/``rm.yaml``/``dpo.yaml``."""
    output = Path(output)
    bundle = bundle or DatasetBundle.bundled()
    config = config or TrainConfig()
    written = export(bundle, "llamafactory", output)
    stages = (["sft"] if bundle.sft else []) + (["rm", "dpo"] if bundle.preference else [])
    for stage in stages:
        cfg = lf_config(stage, config, str(output.resolve()), template)
        head = f"# LLaMA-Factory {stage} config written by celm (paper appendix A.3). Run: llamafactory-cli train {stage}.yaml\n"
        write_text(output / f"{stage}.yaml", head + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
        written.append(output / f"{stage}.yaml")
    return written
