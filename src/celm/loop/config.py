"""``loop.yaml``: everything a run of the iterative loop needs, validated before any model is loaded.

The paper (section 3.3) builds its data in rounds: the current model answers new instructions, with
and without a safety system prompt (context distillation); two raters score each answer 0–6; ties
are discarded, the rest ranked and paired; SFT on the safe answers and DPO on the pairs make the next
round's model. One YAML file sets every part; the loop copies it into its folder, so each round can
be repeated from the folder alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from celm.models.defaults import DEFAULT_LOOP_MODEL
from celm.models.prompts import SAFETY_SYSTEM_PROMPT
from celm.settings import read_settings_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PoolSettings(_Strict):
    """Where new instructions come from; each round takes the next ``per_round`` of a seeded shuffle."""

    sources: list[str] = Field(default_factory=lambda: ["celm-bench"],
                               description="prompt files or registered sources (EvalItem / Instruction records)")
    per_round: int = Field(default=40, ge=1, description="new instructions per round")
    kinds: list[Literal["attack", "benign"]] = Field(default_factory=lambda: ["attack", "benign"])


class ResponseSettings(_Strict):
    """How many answers each instruction gets, and how they are sampled."""

    samples: int = Field(default=2, ge=0, description="answers without a system prompt")
    distilled: int = Field(default=1, ge=0, description="answers with the safety system prompt (context distillation)")
    system_prompt: str = SAFETY_SYSTEM_PROMPT
    temperature: float = Field(default=0.8, ge=0.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=128, ge=1)

    @model_validator(mode="after")
    def _some(self) -> "ResponseSettings":
        if self.samples + self.distilled < 2:
            raise ValueError("each instruction needs at least two answers to be paired (samples + distilled >= 2)")
        return self


class RaterSettings(_Strict):
    """``judge:JUDGE_SPEC`` / ``llm:MODEL_SPEC`` (automatic) or ``app:URL`` (people in ``celm serve``)."""

    spec: str = "judge:builtin"
    username: str = Field(default="admin", description="app: the admin account the loop logs in as")
    password_env: str = Field(default="CELM_APP_PASSWORD", description="app: the environment variable holding its password")
    poll_s: float = Field(default=30.0, gt=0, description="app: seconds between looks at the batch")
    timeout_s: float | None = Field(default=None, gt=0, description="app: give up waiting after this long (None: wait)")

    @field_validator("spec")
    @classmethod
    def _known(cls, spec: str) -> str:
        from celm.loop.raters import RATERS, rater_kind

        if rater_kind(spec) not in RATERS:
            raise ValueError(f"rater {spec!r}: the kind must be one of {', '.join(RATERS.names())} (e.g. judge:builtin)")
        return spec


class StageSettings(_Strict):
    """One training stage; ``settings`` are TrainConfig fields over the paper's appendix A.3 defaults."""

    enabled: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("settings")
    @classmethod
    def _train_fields(cls, settings: dict[str, Any]) -> dict[str, Any]:
        from celm.train.config import TrainConfig

        owned = {"stage", "model", "output_dir", "data", "merge", "eval_after"}
        bad = sorted(set(settings) & owned)
        if bad:
            raise ValueError(f"the loop sets {', '.join(bad)} itself; remove them from the stage settings")
        unknown = sorted(set(settings) - set(TrainConfig.model_fields))
        if unknown:
            import difflib

            hints = [f"{u} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(u, TrainConfig.model_fields, n=1)) else u
                     for u in unknown]
            raise ValueError(f"unknown training settings: {', '.join(hints)}")
        return settings


class EvalSettings(_Strict):
    """The evaluation after every round (and of the starting model, as round 0)."""

    benchmarks: list[str] = Field(default_factory=lambda: ["celm-bench"])
    judge: str = "builtin"
    attacks_per_scenario: int = 4
    benign_per_scenario: int = Field(default=2, description="benign controls per scenario: over-refusal and helpfulness")
    max_new_tokens: int = 64
    seed: int = 0


class LoopConfig(_Strict):
    model: str = Field(default=DEFAULT_LOOP_MODEL, description="the starting model", json_schema_extra={"flags": ("--model", "-m")})
    model_options: str = Field(default="repetition_penalty=1.3&batch_size=16",
                               description="backend options for every round's model (the same decoding each round)")
    rounds: int = Field(default=2, ge=1, description="how many rounds in all (raise it to extend a finished loop)")
    seed: int = Field(default=0, description="seed of the pool's shuffle and of each answer's sampling")
    pool: PoolSettings = Field(default_factory=PoolSettings)
    responses: ResponseSettings = Field(default_factory=ResponseSettings)
    rater: RaterSettings = Field(default_factory=RaterSettings)
    sft: StageSettings = Field(default_factory=StageSettings)
    dpo: StageSettings = Field(default_factory=StageSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), allow_unicode=True, sort_keys=False)


def load_loop_config(path: str | Path | None = None, **overrides: Any) -> LoopConfig:
    """A loop.yaml (missing keys take their defaults), then keyword overrides of top-level keys."""
    data = read_settings_file(path, "loop settings")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return LoopConfig.model_validate(data)
