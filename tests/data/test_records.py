import pytest
from pydantic import ValidationError

from celm.data.records import EvalItem, MultipleChoiceItem, PreferencePair, Rating, Response, detect_record_type


def test_scenario_and_norms_are_checked():
    with pytest.raises(ValidationError, match="unknown scenario"):
        EvalItem(id="x", prompt="p", scenario="weather")
    with pytest.raises(ValidationError, match="unknown norm"):
        EvalItem(id="x", prompt="p", norms=["N99"])
    assert EvalItem(id="x", prompt="p", scenario="drugs", norms=["N08"]).scenario == "drugs"


def test_rating_range_and_pair_identity():
    with pytest.raises(ValidationError):
        Rating(id="r", item_id="i", annotator="a", score=7)
    with pytest.raises(ValidationError, match="chosen == rejected"):
        PreferencePair(id="p", instruction="q", chosen="same", rejected=" same ")
    with pytest.raises(ValidationError, match="empty text"):
        EvalItem(id="x", prompt="   ")
    with pytest.raises(ValidationError, match="out of range"):
        MultipleChoiceItem(id="m", question="q", options=["a", "b"], answer=2)


def test_detect_record_type_prefers_most_specific():
    assert detect_record_type({"id": "1", "prompt": "p"}) is EvalItem
    assert detect_record_type({"id": "1", "prompt": "p", "item_id": "i", "response": "r"}) is Response
    assert detect_record_type({"id": "1", "instruction": "q", "chosen": "a", "rejected": "b"}) is PreferencePair
    assert detect_record_type({"foo": 1}) is None


def test_each_record_type_declares_its_text_fields_once():
    """Which field holds the text is a class attribute; every text-bearing record type declares it, and
    what it declares are real string fields (a renamed field fails here, not in a curation run)."""
    from celm.data.records import RECORD_TYPES

    without_text = {"rating", "judgement"}  # ranks and verdicts: no text of their own to curate
    for name, cls in RECORD_TYPES.items():
        if name in without_text:
            assert cls.instruction_field is None and not cls.text_fields
            continue
        assert cls.instruction_field in cls.text_fields, name
        assert set(cls.response_fields) <= set(cls.text_fields), name
        for field in cls.text_fields:
            assert cls.model_fields[field].annotation in (str, "str", str | None, "str | None"), (name, field)


def test_every_record_type_is_curated_by_its_declared_fields():
    from celm.curate.fields import instruction_text, with_instruction
    from celm.curate.normalize import normalize_records
    from celm.data.records import JudgeExample, LabelledResponse

    labelled = LabelledResponse(id="l", item_id="i", instruction="怎样　办护照？", response="去　出入境管理局。", model="m",
                                label="safe", passes=["safe", "safe"])
    assert instruction_text(labelled) == "怎样　办护照？"
    (cleaned,), report = normalize_records([labelled])
    assert report.changed == 1 and "　" not in cleaned.instruction and "　" not in cleaned.response
    assert with_instruction(labelled, "新问题").instruction == "新问题"
    assert instruction_text(JudgeExample(id="j", response="回答", label="safe")) == "回答"  # no instruction: the answer
    with pytest.raises(TypeError, match="no instruction"):
        with_instruction(Rating(id="r", item_id="i", annotator="a", score=1), "x")
