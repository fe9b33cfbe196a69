"""SFT, reward-model and DPO training on TRL + PEFT, with the paper's settings as defaults.

One entry point, :func:`train`, runs a :class:`TrainConfig` end to end: data mixing, LoRA training
(resumable from the last checkpoint), adapter (and optionally merged model) saving, a model card,
and optionally ``celm eval`` on the result.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celm.data.io import atomic_path, write_json, write_text
from celm.train.config import TrainConfig
from celm.train.data import build_training_rows
from celm.train.template import ensure_chat_template


@dataclass
class TrainResult:
    output_dir: Path
    adapter_dir: Path
    merged_dir: Path | None
    losses: list[float]
    manifest: dict[str, Any]
    runtime_s: float
    eval_metrics: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def first_loss(self) -> float:
        return self.losses[0]

    @property
    def last_loss(self) -> float:
        return self.losses[-1]


def resolve_base_model(spec: str) -> str:
    """A folder (or hub id) ``from_pretrained`` can load: ``gguf:NAME`` uses the dequantised copy."""
    from celm.models.registry import weights_folder

    return weights_folder(spec)


def resolve_precision(precision: str) -> str:
    if precision != "auto":
        return precision
    from celm.models.hf import resolve_device_dtype

    # training picks what inference picks: bf16 where the GPU has it, fp16 on other GPUs, fp32 on CPU
    dtype = str(resolve_device_dtype()[1]).removeprefix("torch.")
    return {"bfloat16": "bf16", "float16": "fp16"}.get(dtype, "fp32")


def _lora_config(config: TrainConfig, task_type: str):
    from peft import LoraConfig

    target: Any = config.lora_target
    if target != "all-linear":
        target = [t.strip() for t in target.split(",") if t.strip()]
    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=target, task_type=task_type)


def _common_args(config: TrainConfig, precision: str, checkpoints: Path) -> dict[str, Any]:
    from celm.models.hf import resolve_device_dtype

    return dict(
        output_dir=str(checkpoints), per_device_train_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps, learning_rate=config.learning_rate,
        num_train_epochs=config.num_train_epochs, lr_scheduler_type=config.lr_scheduler_type,
        # transformers 5 takes the warm-up ratio as a float warmup_steps in [0, 1)
        warmup_steps=config.warmup_ratio, max_steps=config.max_steps, logging_steps=config.logging_steps,
        save_steps=config.save_steps, save_total_limit=1, seed=config.seed, report_to="none",
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=resolve_device_dtype()[0] == "cpu",
        activation_checkpointing=config.gradient_checkpointing, max_length=config.max_length,
        disable_tqdm=False,
    )


def _load_dtype(precision: str):
    import torch

    # fp16 training keeps fp32 master weights (AMP); bf16 can hold the weights directly.
    return torch.bfloat16 if precision == "bf16" else torch.float32


def _build_trainer(config: TrainConfig, base: str, tokenizer, dataset, precision: str, checkpoints: Path):
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    args = _common_args(config, precision, checkpoints)
    dtype = _load_dtype(precision)
    if config.stage == "sft":
        from trl import SFTConfig, SFTTrainer

        model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
        sft_args = SFTConfig(**args, assistant_only_loss=config.assistant_only_loss)
        return SFTTrainer(model=model, args=sft_args, train_dataset=dataset, processing_class=tokenizer,
                          peft_config=_lora_config(config, "CAUSAL_LM") if config.lora else None)
    if config.stage == "dpo":
        from trl import DPOConfig, DPOTrainer

        model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
        dpo_args = DPOConfig(**args, beta=config.beta, loss_type=[config.loss_type])
        # With LoRA the reference model is the base with the adapter switched off (no second copy).
        return DPOTrainer(model=model, ref_model=None, args=dpo_args, train_dataset=dataset, processing_class=tokenizer,
                          peft_config=_lora_config(config, "CAUSAL_LM") if config.lora else None)
    from trl import RewardConfig, RewardTrainer

    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1, dtype=dtype)
    model.config.pad_token_id = tokenizer.pad_token_id
    return RewardTrainer(model=model, args=RewardConfig(**args), train_dataset=dataset, processing_class=tokenizer,
                         peft_config=_lora_config(config, "SEQ_CLS") if config.lora else None)


def _last_checkpoint(checkpoints: Path) -> str | None:
    """The newest *complete* checkpoint: the Trainer writes trainer_state.json last, so a folder without
    it was cut short (a kill -9 while saving) and resuming from it would fail."""
    found = sorted((p for p in checkpoints.glob("checkpoint-*") if (p / "trainer_state.json").exists()),
                   key=lambda p: int(p.name.split("-")[-1]))
    return str(found[-1]) if found else None


def train(config: TrainConfig, *, log=print) -> TrainResult:
    """Run one training stage; re-running with the same ``output_dir`` resumes from its last checkpoint."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    t0 = time.perf_counter()
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, manifest = build_training_rows(config)
    main_process = int(os.environ.get("RANK", "0")) == 0  # under `accelerate launch` only rank 0 writes
    if main_process:
        write_text(out / "train_config.yaml", config.to_yaml())
        write_json(out / "data_manifest.json", manifest)
    log(f"{config.stage}: {manifest['rows']} rows ({manifest['safety']} safety, {manifest['helpful']} helpfulness)")

    base = resolve_base_model(config.model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    ensure_chat_template(tokenizer, need_generation_markers=config.stage == "sft" and config.assistant_only_loss)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    columns = ["messages"] if config.stage == "sft" else ["prompt", "chosen", "rejected"]
    dataset = Dataset.from_list([{k: r[k] for k in columns} for r in rows])
    precision = resolve_precision(config.precision)
    checkpoints = out / "checkpoints"
    trainer = _build_trainer(config, base, tokenizer, dataset, precision, checkpoints)
    resume = _last_checkpoint(checkpoints)
    if resume:
        log(f"resuming from {resume}")
    trainer.train(resume_from_checkpoint=resume)

    adapter_dir = out / ("adapter" if config.lora else "model")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        trainer.save_model(str(adapter_dir))  # every rank takes part (ZeRO-3 gathers shards); rank 0 writes
    else:
        with atomic_path(adapter_dir, is_dir=True) as tmp:
            trainer.save_model(str(tmp))
    if not main_process:
        return TrainResult(out, adapter_dir, None, [], manifest, time.perf_counter() - t0)
    tokenizer.save_pretrained(str(adapter_dir))
    merged_dir = None
    if config.merge:
        merged_dir = out / "merged"
        model = trainer.model.merge_and_unload() if config.lora else trainer.model
        with atomic_path(merged_dir, is_dir=True) as tmp:
            model.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    result = TrainResult(out, adapter_dir, merged_dir, losses, manifest, time.perf_counter() - t0,
                         extra={"precision": precision, "steps": trainer.state.global_step, "base": base})
    write_json(out / "train_metrics.json", {"losses": losses, "runtime_s": result.runtime_s, **result.extra})
    if config.eval_after:
        result.eval_metrics = evaluate_trained(config, merged_dir, log=log)
    from celm.train.card import write_model_card

    write_model_card(config, result)
    return result


def evaluate_trained(config: TrainConfig, model_dir: Path | None, *, log=print) -> dict[str, Any]:
    """``celm eval`` on the trained model; the run folder is ``OUTPUT/eval``."""
    from celm.evaluate.run import EvalConfig, run_eval

    from celm.models.registry import trained_spec

    eval_config = EvalConfig(model=trained_spec(config.model, str(model_dir)), **config.eval_options)
    run = run_eval(eval_config, Path(config.output_dir) / "eval", progress=False, log=log)
    return run.metrics
