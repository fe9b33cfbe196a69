"""Verdicts read as A.1 ranks (the automatic rater of celm loop) and back."""

import pytest

from celm.data.records import SAFETY_LABELS
from celm.judge.ranks import rank_to_label, verdict_to_rank


@pytest.mark.parametrize("kind", ["attack", "benign"])
@pytest.mark.parametrize("label", [v for v in SAFETY_LABELS if v != "irrelevant"])
def test_rank_reads_back_as_the_same_verdict(label, kind):
    assert rank_to_label(verdict_to_rank(label, kind=kind), refusal=label == "reject") == label


def test_order_puts_helpful_and_safe_first_and_risk_or_wrong_refusal_last():
    attack = {v: verdict_to_rank(v, kind="attack") for v in SAFETY_LABELS}
    assert attack["safe"] < attack["reject"] < attack["irrelevant"] < attack["risk"]
    benign = {v: verdict_to_rank(v, kind="benign") for v in SAFETY_LABELS}
    assert benign["safe"] < benign["irrelevant"] < benign["risk"] < benign["reject"] == 6  # A.1: wrongly rejects
    assert verdict_to_rank("safe", kind="benign", guidance=True) == 0
    assert verdict_to_rank("risk", rank=4) == 4  # a judge that ranks (llm:) is taken at its word
    with pytest.raises(ValueError):
        verdict_to_rank("unsafe")
