"""Training settings: the paper's appendix A.3 values are the defaults; every one can be overridden.

A :class:`TrainConfig` is read from YAML and/or command-line ``key=value`` overrides, validated, and
saved beside the outputs as ``train_config.yaml`` so a run can be repeated exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from celm.models.defaults import DEFAULT_TRAIN_MODEL
from celm.settings import read_settings_file

Stage = Literal["sft", "rm", "dpo"]

#: Appendix A.3: SFT/RM learning rate 1e-4; DPO 5e-6.
DEFAULT_LR = {"sft": 1e-4, "rm": 1e-4, "dpo": 5e-6}


def _flags(*flags: str, default_help: str | None = None) -> dict:
    """The command-line flags of a field where ``--field-name`` would not do (celm train's options
    are made from these fields: celm.cli._common.config_options)."""
    return {"flags": flags, **({"default_help": default_help} if default_help else {})}


class TrainConfig(BaseModel):
    """One training run; ``celm train sft|rm|dpo`` has an option for each field but ``stage`` (the
    subcommand)."""

    model_config = ConfigDict(extra="forbid")

    stage: Stage = "sft"
    model: str = Field(default=DEFAULT_TRAIN_MODEL, description="base model: gguf:NAME, ct2:NAME (trains its "
                       "transformers weights), hf:PATH_OR_HUB_ID or a folder", json_schema_extra=_flags("--model", "-m"))
    output_dir: Path = Field(default=Path("runs/train"), description="output folder: adapter, merged model, model card",
                             json_schema_extra=_flags("--output", "-o"))
    # Data: safety data D^c and helpfulness data D^h, each a celm file or a registered source name.
    data: list[str] = Field(default_factory=lambda: ["celm-sft"], description="safety data D^c: celm/TRL files or "
                            "source names (repeat)", json_schema_extra=_flags("--data", "-d"))
    helpful_data: list[str] = Field(default_factory=list, description="helpfulness data D^h, e.g. alpaca-zh-demo (repeat)")
    safety_count: int | None = Field(default=None, ge=0, description="take this many safety examples (after shuffling)")
    helpful_count: int | None = Field(default=None, ge=0, description="take this many helpfulness examples")
    safety_ratio: float | None = Field(default=None, gt=0, lt=1,
                                       description="share of safety examples in the mix, e.g. 0.5; the larger side is subsampled")
    norms_in_prompt: bool = Field(default=False, description="prepend each item's norms to its instruction (paper 4.3)")
    system_prompt: str | None = Field(default=None, description="a system prompt for every training example")
    # LoRA (the paper trains with LoRA; r/alpha are LLaMA-Factory's defaults).
    lora: bool = Field(default=True, description="train a LoRA adapter (--no-lora: every weight)")
    lora_r: int = Field(default=8, description="LoRA rank")
    lora_alpha: int = Field(default=16, description="LoRA alpha")
    lora_dropout: float = Field(default=0.05, description="LoRA dropout")
    lora_target: str = Field(default="all-linear", description="the modules LoRA adapts (PEFT's target_modules)")
    # Appendix A.3.
    per_device_train_batch_size: int = Field(default=1, description="examples per device and step", json_schema_extra=_flags("--batch-size"))
    gradient_accumulation_steps: int = Field(default=8, description="steps accumulated per optimizer step")
    learning_rate: float | None = Field(default=None, description="learning rate", json_schema_extra=_flags(
        "--lr", default_help="default appendix A.3's: " + ", ".join(f"{lr:g} for {stage}" for stage, lr in DEFAULT_LR.items())))
    num_train_epochs: float = Field(default=3.0, description="epochs", json_schema_extra=_flags("--epochs"))
    lr_scheduler_type: str = Field(default="cosine", description="learning-rate schedule (transformers' names)")
    warmup_ratio: float = Field(default=0.1, description="share of the steps spent warming up")
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field(default="auto", description="auto: bf16 on a GPU that has it, else fp32")
    beta: float = Field(default=0.1, description="DPO's beta")
    loss_type: str = Field(default="sigmoid", description="DPO's loss")
    # Practical knobs.
    max_length: int = Field(default=512, description="longest example in tokens (longer ones are cut)")
    max_steps: int = Field(default=-1, description="stop after this many optimizer steps (-1: the epochs decide)")
    assistant_only_loss: bool = Field(default=True, description="SFT loss on the answer only")
    seed: int = Field(default=42, description="seed of the data order and the adapter's initial weights")
    logging_steps: int = Field(default=1, description="log the loss every N steps")
    save_steps: int = Field(default=200, description="checkpoint every N steps (a killed run resumes from the last)")
    merge: bool = Field(default=False, description="also save the LoRA-merged model")
    gradient_checkpointing: bool = Field(default=False, description="trade compute for memory")
    eval_after: bool = Field(default=False, description="run `celm eval` on the result (implies --merge); "
                             "its figures go in the model card")
    eval_options: dict[str, Any] = Field(default_factory=dict, description="EvalConfig fields for --eval-after, as NAME=VALUE (repeat), e.g. limit=20")

    @model_validator(mode="after")
    def _defaults(self) -> "TrainConfig":
        if self.learning_rate is None:
            self.learning_rate = DEFAULT_LR[self.stage]
        if self.safety_ratio is not None and (self.safety_count is not None or self.helpful_count is not None):
            raise ValueError("give either safety_ratio or safety_count/helpful_count, not both")
        if self.eval_after:
            self.merge = True  # the evaluation loads the merged model
        return self

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), allow_unicode=True, sort_keys=False)


def _coerce(value: str) -> Any:
    parsed = yaml.safe_load(value)
    return value if parsed is None and value not in ("null", "~") else parsed


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
                assignments: list[str] | None = None, **kwargs: Any) -> TrainConfig:
    """YAML file, then ``overrides`` (a dict), then ``KEY=VALUE`` strings, then keyword arguments."""
    data = read_settings_file(path)
    data.update(overrides or {})
    for item in assignments or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        data[key.strip().replace("-", "_")] = _coerce(value)
    data.update({k: v for k, v in kwargs.items() if v is not None})
    return TrainConfig.model_validate(data)
