"""Which fields of a record hold text, the instruction and the responses: read from the record's class
(celm.data.records), where each record type declares them once."""

from __future__ import annotations

from celm.data.records import Record


def text_fields(record: Record) -> tuple[str, ...]:
    return record.text_fields


def response_fields(record: Record) -> tuple[str, ...]:
    return record.response_fields


def instruction_text(record: Record) -> str:
    return record.primary_text()


def with_instruction(record: Record, text: str) -> Record:
    return record.with_instruction(text)
