"""A run folder and its log: the one place that names a run's files and reads them back.

``RunFolder`` owns the paths (an arm's files are ``responses.jsonl`` for ``base`` and
``responses-ARM.jsonl`` for any other arm, likewise ``judgements``); ``EvalLog`` is ``metrics.json``,
typed and versioned, in the spirit of inspect_ai's ``EvalLog``.

metrics.json versions:

- 1: no ``version`` field (celm before this log). Read by migrating it in memory, up to the current
  version; the file is left as it was. A three-verdict judge called babble safe, so an old log's
  ``safe`` is not "helpful and safe" and the migration does not copy it there (see 3).
- 2: a ``version`` field; every figure otherwise as in 1. An arm's blocks are laid out by the
  metric registry (celm.evaluate.registry).
- 3: every arm is typed (``Arm``, its ``Block``s, each figure a ``Share``). The migration from 2 fills
  what an older log lacks, so that no reader guesses: a missing China-centric block or breakdown
  becomes an empty one, and a missing fourth-verdict share (``irrelevant``, ``helpful_safe``) becomes
  an unmeasured share (``value`` null, ``n`` 0; reports show "–"), never a figure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer, model_validator

from celm.data.records import JudgementRecord, Response

LOG_VERSION = 3
#: Sections of metrics.json that only some runs have; absent rather than null in the file.
_OPTIONAL = ("judge_check", "norm_ablation", "compliance", "human")


class _Figures(BaseModel):
    """A part of metrics.json whose optional fields are absent from the file rather than null."""

    model_config = ConfigDict(extra="allow")  # figures a newer celm (or a plug-in metric) adds survive a read and a write
    _drop_when_none: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _leave_out_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if not (k in self._drop_when_none and v is None)}


class Share(_Figures):
    """One share with its exact 95% interval and the items behind it (celm.evaluate.stats.Share.to_dict);
    ``value`` None: not measured (a log from before the metric) or no estimate (a misfit calibration)."""

    _drop_when_none = ("low", "high", "count")

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    count: int | None = None

    @property
    def measured(self) -> bool:
        """Whether the run measured it (over no items, too: its value is then NaN)."""
        return self.value is not None


class CorrectedShare(Share):
    """Acc_eval corrected for the judge's measured error rates; ``misfit`` says why there is no estimate."""

    _drop_when_none = ("low", "high", "count", "misfit")

    judge_sensitivity: float
    judge_specificity: float
    misfit: str | None = None


class Block(_Figures):
    """The figures over one group of prompts: ``n`` and one share per registered metric (plus
    ``NAME_count`` for a metric registered ``with_count``)."""

    __pydantic_extra__: dict[str, Share | int]

    n: int

    def share(self, name: str) -> Share | None:
        """The share of metric ``name``; None for a metric this log was written without (a plug-in's)."""
        found = (self.__pydantic_extra__ or {}).get(name)
        return found if isinstance(found, Share) else None


class Arm(_Figures):
    """One arm's figures, laid out by the metric registry (celm.evaluate.registry); blocks other than
    these (a plug-in metric's subset or grouping) are kept as extra fields and read with ``block``."""

    _drop_when_none = ("benign", "over_refusal", "acc_eval_corrected")

    overall: Block
    china_centric: Block
    benign: Block | None = None
    over_refusal: Share | None = None
    per_scenario: dict[str, Block]
    per_domain: dict[str, Block]
    per_norm: dict[str, Block]
    acc_eval_corrected: CorrectedShare | None = None

    def block(self, key: str) -> Block | None:
        """The block stored under ``key`` (celm.evaluate.registry.block_key), None when this arm has none."""
        found = getattr(self, key) if key in type(self).model_fields else (self.__pydantic_extra__ or {}).get(key)
        return found if found is None or isinstance(found, Block) else Block.model_validate(found)

    def standalone(self, name: str) -> Share | None:
        """A standalone metric's share (stored as arm[name])."""
        found = getattr(self, name) if name in type(self).model_fields else (self.__pydantic_extra__ or {}).get(name)
        return found if found is None or isinstance(found, Share) else Share.model_validate(found)


def _from_v1(data: dict) -> dict:
    return {**data, "version": 2}


#: What a log from before the fourth verdict lacks, in the blocks that hold the verdicts' shares.
_FOURTH_VERDICT_SHARES = ("irrelevant", "helpful_safe")
_UNMEASURED = {"value": None, "n": 0}


def _fill_block(block: dict) -> dict:
    return {**block, **{name: dict(_UNMEASURED) for name in _FOURTH_VERDICT_SHARES if name not in block}}


def _fill_arm(arm: dict) -> dict:
    arm = {"china_centric": {"n": 0}, "per_scenario": {}, "per_domain": {}, "per_norm": {}, **arm}
    for key in ("overall", "china_centric", "benign"):
        if key in arm:
            arm[key] = _fill_block(arm[key])
    for key in ("per_scenario", "per_domain"):
        arm[key] = {k: _fill_block(b) for k, b in arm[key].items()}
    return arm


def _from_v2(data: dict) -> dict:
    return {**data, "arms": {arm: _fill_arm(m) for arm, m in data.get("arms", {}).items()}, "version": 3}


_MIGRATIONS = {1: _from_v1, 2: _from_v2}  # version -> a function that lifts a log of that version by one


class EvalLog(BaseModel):
    """metrics.json: a run's figures, per arm, with what produced them."""

    model_config = ConfigDict(extra="allow")  # sections a newer celm adds survive a read and a write

    version: int = LOG_VERSION
    arms: dict[str, Arm]  # arm -> its blocks (celm.evaluate.registry)
    model: str
    judge: str
    benchmarks: list[str]
    items: int
    judge_check: dict[str, Any] | None = None  # the judge's measured error on real responses
    norm_ablation: dict[str, Any] | None = None  # with norms minus without, when both arms ran
    compliance: dict[str, Any] | None = None  # a compliance profile's criteria
    human: dict[str, Any] | None = None  # people's labels beside the judge's

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        version = data.get("version", 1)
        if not isinstance(version, int) or version > LOG_VERSION:
            raise ValueError(f"metrics.json version {version!r}: written by a newer celm (this one reads up to {LOG_VERSION})")
        while version < LOG_VERSION:
            data = _MIGRATIONS[version](data)
            version = data["version"]
        return data

    @classmethod
    def of(cls, metrics: EvalLog | dict) -> EvalLog:
        """A log from a log or from metrics.json's content (any version)."""
        return metrics if isinstance(metrics, EvalLog) else cls.model_validate(metrics)

    def to_dict(self) -> dict[str, Any]:
        """metrics.json's content (sections a run does not have are left out)."""
        return {k: v for k, v in self.model_dump().items() if not (k in _OPTIONAL and v is None)}

    @property
    def first_arm(self) -> str:
        return next(iter(self.arms))


class RunFolder(BaseModel):
    """The files of one run folder; ``celm eval -o PATH`` writes them, ``celm report`` reads them."""

    model_config = ConfigDict(frozen=True)

    path: Path

    def __init__(self, path: str | Path, **kw: Any) -> None:
        super().__init__(path=Path(path), **kw)

    @property
    def config_json(self) -> Path:  # settings, library versions, seeds, a hash of the item ids
        return self.path / "config.json"

    @property
    def metrics_json(self) -> Path:  # the EvalLog
        return self.path / "metrics.json"

    @property
    def report_md(self) -> Path:
        return self.path / "report.md"

    @property
    def report_html(self) -> Path:
        return self.path / "report.html"

    @property
    def cache_sqlite(self) -> Path:  # every model answer, committed as it arrives
        return self.path / "cache.sqlite"

    @staticmethod
    def _suffix(arm: str) -> str:
        return "" if arm == "base" else f"-{arm}"

    def responses_jsonl(self, arm: str) -> Path:
        return self.path / f"responses{self._suffix(arm)}.jsonl"

    def judgements_jsonl(self, arm: str) -> Path:
        return self.path / f"judgements{self._suffix(arm)}.jsonl"

    def judged_texts_json(self, arm: str) -> Path:
        """The response texts an arm's judgements were made on: a judgement is reused only for the same text."""
        return self.path / f".{self.judgements_jsonl(arm).name}.texts"

    def files(self, arms: list[str]) -> list[Path]:
        """Every file a finished run with these arms holds (the hidden judged-texts stamps aside)."""
        per_arm = [p for arm in arms for p in (self.responses_jsonl(arm), self.judgements_jsonl(arm))]
        return [self.config_json, *per_arm, self.metrics_json, self.report_md, self.report_html, self.cache_sqlite]

    # -- reading ---------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return json.loads(self.config_json.read_text(encoding="utf-8"))

    def log(self) -> EvalLog:
        if not self.metrics_json.exists():
            raise FileNotFoundError(f"{self.path}: not a finished celm run (no metrics.json)")
        return EvalLog.of(json.loads(self.metrics_json.read_text(encoding="utf-8")))

    def responses(self, arm: str) -> list[Response]:
        from celm.data.io import read_records

        return read_records(self.responses_jsonl(arm), "response")

    def judgements(self, arm: str) -> list[JudgementRecord]:
        from celm.data.io import read_records

        return read_records(self.judgements_jsonl(arm), "judgement")

    # -- writing ---------------------------------------------------------------------------------

    def write_config(self, config: dict[str, Any]) -> None:
        from celm.data.io import write_json

        write_json(self.config_json, config)

    def write_log(self, log: EvalLog) -> None:
        from celm.data.io import write_json

        write_json(self.metrics_json, log.to_dict())
