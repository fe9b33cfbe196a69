"""Typed records that flow through celm: curation, generation, judging, evaluation and training.

Every record carries an id, an optional scenario, the norms that govern it and its provenance, so a
stage never re-parses another's loose dicts. Scenario and norm ids are checked against the taxonomy.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from celm.taxonomy import get_taxonomy

#: The four verdicts for a (prompt, response) pair, given by people and by judges alike
#: (../shared/judge-rubric.md, docs/judge-rubric.md): the paper's Safe / Reject / Risk plus
#: ``irrelevant`` (off-topic, babble, an echo of the question, a question back; nothing harmful).
#: Acc_eval keeps the paper's definition (share not ``risk``); "helpful and safe" is the share ``safe``.
SafetyLabel = Literal["safe", "reject", "risk", "irrelevant"]
#: the four verdicts, in this order everywhere (tables, confusion matrices, exports)
SAFETY_LABELS: tuple[str, ...] = get_args(SafetyLabel)
#: the paper's three verdicts (older files and three-verdict judges use only these)
PAPER_LABELS: tuple[str, ...] = ("safe", "reject", "risk")
HumanLabel = SafetyLabel
ItemKind = Literal["attack", "benign"]
#: who gave a Rating; ``final`` is the item's decided rank (two agreeing annotators, the senior, or an
#: automatic rater), not one more person's judgement: agreement statistics leave it out
RaterRole = Literal["annotator", "senior", "reviewer", "final"]

NonEmpty = Field(min_length=1)


class Provenance(BaseModel):
    """Where a record came from and how it was made."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, description="dataset or stage, e.g. 'jade-v3', 'celm-bench'")
    source_id: str | None = Field(default=None, description="the id in the source")
    method: str | None = Field(default=None, description="how it was made: seed, paraphrase, injection:role_play, ...")
    original_category: str | None = Field(default=None, description="the source's own category label")
    details: dict[str, Any] = Field(default_factory=dict)


class Record(BaseModel):
    """Fields every celm record shares."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    record_type: ClassVar[str] = "record"
    # Fields that identify a record type when reading a file with no type given.
    signature: ClassVar[frozenset[str]] = frozenset()
    #: the fields that hold free text (what normalisation cleans)
    text_fields: ClassVar[tuple[str, ...]] = ()
    #: the field the record is about, the instruction (what dedup, split, classification, injection and
    #: statistics read); None for records without one
    instruction_field: ClassVar[str | None] = None
    #: the fields that hold a model's answer (what the response filters check)
    response_fields: ClassVar[tuple[str, ...]] = ()

    id: str = Field(min_length=1)
    scenario: str | None = None
    norms: list[str] = Field(default_factory=list)
    provenance: Provenance = Field(default_factory=lambda: Provenance(source="unknown"))

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, value: str | None) -> str | None:
        if value is not None and value not in get_taxonomy().scenario_ids:
            raise ValueError(f"unknown scenario {value!r}")
        return value

    @field_validator("norms")
    @classmethod
    def _known_norms(cls, value: list[str]) -> list[str]:
        known = get_taxonomy().norm_ids
        bad = [n for n in value if n not in known]
        if bad:
            raise ValueError(f"unknown norm(s) {bad}")
        return value

    def primary_text(self) -> str:
        """The text the record is about: its instruction field, or its id when it has none."""
        return getattr(self, self.instruction_field) if self.instruction_field else self.id

    def with_instruction(self, text: str) -> "Record":
        """A copy with ``text`` as its instruction."""
        if self.instruction_field is None:
            raise TypeError(f"a {self.record_type} record has no instruction to replace")
        return self.model_copy(update={self.instruction_field: text})


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("empty text")
    return value


class Instruction(Record):
    """A user instruction (seed question, paraphrase, platform log, injected variant)."""

    record_type: ClassVar[str] = "instruction"
    signature: ClassVar[frozenset[str]] = frozenset({"text"})
    text_fields: ClassVar[tuple[str, ...]] = ("text",)
    instruction_field: ClassVar[str | None] = "text"
    text: str
    status: Literal["approved", "pending", "rejected"] = "approved"
    approvals: list[str] = Field(default_factory=list, description="reviewers who approved it")

    _text = field_validator("text")(_not_blank)


class Turn(BaseModel):
    """One turn of a conversation, as in OpenAI's ``messages``."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class EvalItem(Record):
    """A red-teaming (or benign control) prompt of an evaluation benchmark.

    A multi-turn item also carries the whole conversation in ``messages`` (OpenAI form), ending with the
    user turn the model answers; ``prompt`` is that last turn (filled from ``messages`` when absent), so
    every reader of ``prompt`` still sees what is asked now.
    """

    record_type: ClassVar[str] = "eval_item"
    signature: ClassVar[frozenset[str]] = frozenset({"prompt"})
    text_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    instruction_field: ClassVar[str | None] = "prompt"
    prompt: str
    kind: ItemKind = "attack"
    tactic: str | None = Field(default=None, description="direct, implicit, role_play, pretext, injection, attack spec, ...")
    messages: list[Turn] | None = Field(default=None, description="the conversation so far, ending with the user turn to answer")

    _prompt = field_validator("prompt")(_not_blank)

    @model_validator(mode="before")
    @classmethod
    def _prompt_from_messages(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("messages") and not data.get("prompt"):
            last = data["messages"][-1]
            content = last.get("content") if isinstance(last, dict) else getattr(last, "content", None)
            data = {**data, "prompt": content or ""}
        return data

    @model_validator(mode="after")
    def _last_turn_is_prompt(self) -> "EvalItem":
        if self.messages is not None:
            if not self.messages or self.messages[-1].role != "user":
                raise ValueError("messages must end with the user turn the model answers")
            if self.messages[-1].content != self.prompt:
                raise ValueError("prompt must be the last user turn of messages")
        return self

    @property
    def history(self) -> list[Turn]:
        """The turns before the one to answer (empty for a single prompt)."""
        return list(self.messages[:-1]) if self.messages else []


class Response(Record):
    """A model's response to an instruction or eval item, with how it was produced."""

    record_type: ClassVar[str] = "response"
    signature: ClassVar[frozenset[str]] = frozenset({"item_id", "response"})
    text_fields: ClassVar[tuple[str, ...]] = ("prompt", "response")
    instruction_field: ClassVar[str | None] = "prompt"
    response_fields: ClassVar[tuple[str, ...]] = ("response",)
    item_id: str = Field(min_length=1)
    prompt: str
    response: str
    model: str
    kind: ItemKind = "attack"
    system_prompt: str | None = None
    with_norms: bool = False
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


class Rating(Record):
    """One rater's judgement of a response: a 0-6 rank (paper appendix A.1) or, in a label task, one
    of the four verdicts. Exactly one of ``score`` and ``label`` is set."""

    record_type: ClassVar[str] = "rating"
    signature: ClassVar[frozenset[str]] = frozenset({"item_id", "annotator"})
    item_id: str = Field(min_length=1)
    annotator: str = Field(min_length=1)
    role: RaterRole = "annotator"
    score: int | None = Field(default=None, ge=0, le=6)
    label: SafetyLabel | None = None
    safety_flag: bool | None = None
    comment: str | None = None
    time: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @model_validator(mode="after")
    def _score_or_label(self) -> "Rating":
        if (self.score is None) == (self.label is None):
            raise ValueError("a rating has a score (0-6) or a label (safe/reject/risk/irrelevant), exactly one")
        return self


class SFTExample(Record):
    """An instruction with a safe response (LLaMA-Factory alpaca fields)."""

    record_type: ClassVar[str] = "sft_example"
    signature: ClassVar[frozenset[str]] = frozenset({"instruction", "output"})
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "input", "output", "system")
    instruction_field: ClassVar[str | None] = "instruction"
    response_fields: ClassVar[tuple[str, ...]] = ("output",)
    instruction: str
    input: str = ""
    output: str
    system: str | None = None

    _instruction = field_validator("instruction", "output")(_not_blank)


class PreferencePair(Record):
    """An instruction with a chosen (safer) and a rejected (less safe) response."""

    record_type: ClassVar[str] = "preference_pair"
    signature: ClassVar[frozenset[str]] = frozenset({"chosen", "rejected"})
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "input", "chosen", "rejected", "system")
    instruction_field: ClassVar[str | None] = "instruction"
    response_fields: ClassVar[tuple[str, ...]] = ("chosen",)
    instruction: str
    input: str = ""
    chosen: str
    rejected: str
    system: str | None = None

    _texts = field_validator("instruction", "chosen", "rejected")(_not_blank)

    @model_validator(mode="after")
    def _distinct(self) -> "PreferencePair":
        if self.chosen.strip() == self.rejected.strip():
            raise ValueError("chosen == rejected")
        return self


class JudgeExample(Record):
    """A labelled (instruction, response) pair for training or calibrating a safety judge."""

    record_type: ClassVar[str] = "judge_example"
    signature: ClassVar[frozenset[str]] = frozenset({"response", "label"})
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "response")
    instruction_field: ClassVar[str | None] = "instruction"
    response_fields: ClassVar[tuple[str, ...]] = ("response",)
    instruction: str = ""
    response: str
    label: SafetyLabel

    _response = field_validator("response")(_not_blank)

    def primary_text(self) -> str:
        return self.instruction or self.response  # a judge example may come without its instruction


class LabelledResponse(Record):
    """A real model response labelled by people in independent passes plus adjudication.

    ``label`` is the final verdict; ``passes`` holds each independent pass's verdict in order, and
    ``adjudicated`` says whether the passes disagreed and a third reader decided.
    """

    record_type: ClassVar[str] = "labelled_response"
    signature: ClassVar[frozenset[str]] = frozenset({"item_id", "response", "label", "passes"})
    text_fields: ClassVar[tuple[str, ...]] = ("instruction", "response")
    instruction_field: ClassVar[str | None] = "instruction"
    response_fields: ClassVar[tuple[str, ...]] = ("response",)
    item_id: str = Field(min_length=1)
    instruction: str
    response: str
    model: str
    kind: ItemKind = "attack"
    system_prompt: str | None = None
    label: HumanLabel
    passes: list[HumanLabel] = Field(min_length=2)
    adjudicated: bool = False


class MultipleChoiceItem(Record):
    """A multiple-choice safety question (SafetyBench, C-Value, translated Anthropic)."""

    record_type: ClassVar[str] = "multiple_choice"
    signature: ClassVar[frozenset[str]] = frozenset({"question", "options"})
    text_fields: ClassVar[tuple[str, ...]] = ("question",)
    instruction_field: ClassVar[str | None] = "question"
    question: str
    options: list[str] = Field(min_length=2)
    answer: int | None = Field(default=None, ge=0, description="index of the correct option")
    category: str | None = None

    _question = field_validator("question")(_not_blank)

    @model_validator(mode="after")
    def _answer_in_range(self) -> "MultipleChoiceItem":
        if self.answer is not None and self.answer >= len(self.options):
            raise ValueError(f"answer {self.answer} out of range for {len(self.options)} options")
        return self


class Verdict(BaseModel):
    """A judge's verdict: the fields shared by the judge's in-memory Judgement and JudgementRecord."""

    label: SafetyLabel
    p_risk: float = Field(ge=0.0, le=1.0)
    reason: str = ""
    judge_id: str
    refusal: bool = False
    guidance: bool = False
    rank: int | None = Field(default=None, ge=0, le=6, description="appendix A.1 rank, where the judge gives one")


class JudgementRecord(Record, Verdict):
    """A judge's verdict on one Response (``id`` is the response's id)."""

    record_type: ClassVar[str] = "judgement"
    signature: ClassVar[frozenset[str]] = frozenset({"item_id", "label", "judge_id"})
    item_id: str
    kind: ItemKind = "attack"
    with_norms: bool = False


RECORD_TYPES: dict[str, type[Record]] = {
    cls.record_type: cls
    for cls in (Instruction, EvalItem, Response, Rating, SFTExample, PreferencePair, JudgeExample, MultipleChoiceItem,
                JudgementRecord, LabelledResponse)
}


def detect_record_type(row: dict[str, Any]) -> type[Record] | None:
    """Guess a record type from a row's keys: the most specific signature that matches."""
    keys = set(row)
    matches = [cls for cls in RECORD_TYPES.values() if cls.signature <= keys]
    if not matches:
        return None
    return max(matches, key=lambda cls: len(cls.signature))
