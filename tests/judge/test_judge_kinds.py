"""Files touched to add a judge kind: one (its module, with its registry line). A judge registered
here, in the test, is chosen by its spec in `celm eval`, `celm judge score` and get_judge, with its
own options checked, and no other change."""

import json

import pytest
from typer.testing import CliRunner

from celm.cli.main import app
from celm.judge import JUDGES, Judge, Judgement, get_judge


class LengthJudge(Judge):
    """``length?limit=N``: a response longer than N characters is risk (a toy, for this test)."""

    def __init__(self, spec: str, target: str, *, limit: str | int = 20):
        self.limit = int(limit)
        self.judge_id = f"length#{self.limit}"

    def judge_many(self, instructions, responses):
        return [Judgement(label="risk" if len(r) > self.limit else "safe", p_risk=float(len(r) > self.limit),
                          reason=f"{len(r)} characters", judge_id=self.judge_id) for r in responses]


@pytest.fixture
def length_judge():
    JUDGES.register("length", LengthJudge, "toy: long responses are risk")
    yield "length"
    JUDGES.unregister("length")


@pytest.mark.usefixtures("length_judge")
def test_a_judge_registered_in_one_place_is_chosen_by_its_spec(tmp_path):
    judge = get_judge("length?limit=5")
    assert [j.label for j in judge.judge_many(["问", "问"], ["短", "这是一个很长的回答"])] == ["safe", "risk"]
    with pytest.raises(ValueError, match="limti"):
        get_judge("length?limti=5")  # a misspelt option is an error, as for every judge

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": "问题", "response": r}, ensure_ascii=False) + "\n"
                             for r in ("好", "一个超过十个字符的很长很长的回答")), encoding="utf-8")
    out = CliRunner().invoke(app, ["judge", "score", "-i", str(pairs), "-o", str(tmp_path / "j.jsonl"), "--judge", "length?limit=10"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["label"] for r in rows] == ["safe", "risk"] and rows[0]["judge_id"] == "length#10"


def test_an_unregistered_kind_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="did you mean 'probe'"):
        get_judge("prob")
    assert "length" not in JUDGES
