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


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage = "sft"
    model: str = Field(default=DEFAULT_TRAIN_MODEL, description="base model: gguf:NAME, hf:PATH_OR_HUB_ID or a folder")
    output_dir: Path = Path("runs/train")
    # Data: safety data D^c and helpfulness data D^h, each a celm file or a registered source name.
    data: list[str] = Field(default_factory=lambda: ["celm-sft"], description="safety data D^c")
    helpful_data: list[str] = Field(default_factory=list, description="helpfulness data D^h")
    safety_count: int | None = Field(default=None, ge=0, description="take this many safety examples (after shuffling)")
    helpful_count: int | None = Field(default=None, ge=0, description="take this many helpfulness examples")
    safety_ratio: float | None = Field(default=None, gt=0, lt=1,
                                       description="share of safety examples in the mix; the larger side is subsampled")
    norms_in_prompt: bool = Field(default=False, description="prepend each item's norms to its instruction (paper 4.3)")
    system_prompt: str | None = None
    # LoRA (the paper trains with LoRA; r/alpha are LLaMA-Factory's defaults).
    lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target: str = "all-linear"
    # Appendix A.3.
    per_device_train_batch_size: int = 1
    gradient_accumulation_steps: int = 8
    learning_rate: float | None = None
    num_train_epochs: float = 3.0
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.1
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"
    beta: float = 0.1
    loss_type: str = "sigmoid"
    # Practical knobs.
    max_length: int = 512
    max_steps: int = -1
    assistant_only_loss: bool = True
    seed: int = 42
    logging_steps: int = 1
    save_steps: int = 200
    merge: bool = False
    gradient_checkpointing: bool = False
    eval_after: bool = False
    eval_options: dict[str, Any] = Field(default_factory=dict, description="EvalConfig fields for --eval-after")

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
