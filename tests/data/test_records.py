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
