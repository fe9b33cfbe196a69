"""Which fields of each record type hold text, which is the instruction, which are responses."""

from __future__ import annotations

from celm.data.records import (
    EvalItem, Instruction, JudgeExample, MultipleChoiceItem, PreferencePair, Record, Response, SFTExample,
)
from celm.data.stats import primary_text

TEXT_FIELDS: dict[type, tuple[str, ...]] = {
    Instruction: ("text",), EvalItem: ("prompt",), SFTExample: ("instruction", "input", "output", "system"),
    PreferencePair: ("instruction", "input", "chosen", "rejected", "system"), Response: ("prompt", "response"),
    JudgeExample: ("instruction", "response"), MultipleChoiceItem: ("question",),
}
RESPONSE_FIELDS: dict[type, tuple[str, ...]] = {
    SFTExample: ("output",), PreferencePair: ("chosen",), Response: ("response",), JudgeExample: ("response",),
}
INSTRUCTION_FIELD: dict[type, str] = {
    Instruction: "text", EvalItem: "prompt", SFTExample: "instruction", PreferencePair: "instruction",
    Response: "prompt", JudgeExample: "instruction", MultipleChoiceItem: "question",
}


def text_fields(record: Record) -> tuple[str, ...]:
    return TEXT_FIELDS.get(type(record), ())


def response_fields(record: Record) -> tuple[str, ...]:
    return RESPONSE_FIELDS.get(type(record), ())


def instruction_text(record: Record) -> str:
    return primary_text(record)


def with_instruction(record: Record, text: str) -> Record:
    return record.model_copy(update={INSTRUCTION_FIELD[type(record)]: text})
