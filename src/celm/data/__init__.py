"""Typed records, their files, statistics, exports and the public-data loaders."""

from celm.data.errors import DataValidationError, Issue
from celm.data.io import read_many, read_records, write_records
from celm.data.records import (
    RECORD_TYPES,
    EvalItem,
    Instruction,
    JudgeExample,
    LabelledResponse,
    MultipleChoiceItem,
    PreferencePair,
    Provenance,
    Rating,
    Record,
    Response,
    SFTExample,
)
from celm.data.text import normalize_text

__all__ = [
    "RECORD_TYPES", "DataValidationError", "EvalItem", "Instruction", "Issue", "JudgeExample", "LabelledResponse", "MultipleChoiceItem",
    "PreferencePair", "Provenance", "Rating", "Record", "Response", "SFTExample", "normalize_text", "read_many",
    "read_records", "write_records",
]
