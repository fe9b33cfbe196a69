import pytest

from celm.curate.filters import DETECTORS, check, quality_filter
from celm.data.records import Instruction, PreferencePair, SFTExample

Q = "请问怎样才能合法地申请个人住房公积金贷款？"

# (detector, failing text, passing text) — written by us
CASES = [
    ("too_short", "好的。", "公积金贷款需要先由单位缴存满一定时间，再向管理中心提交申请材料。"),
    ("ai_template", "作为一个人工智能语言模型，我认为公积金贷款需要向管理中心申请并提交收入证明。",
     "申请公积金贷款，需要向住房公积金管理中心提交收入证明和购房合同。"),
    ("bare_refusal", "抱歉，这个问题我无法回答您。", "抱歉，我不能替你伪造材料。建议你如实准备收入证明，向公积金管理中心咨询。"),
    ("degenerate_repetition", "公积金贷款公积金贷款公积金贷款公积金贷款公积金贷款公积金贷款",
     "公积金贷款的额度与缴存基数、缴存年限和还款能力有关，各地规定略有不同。"),
    ("wrong_language", "You should apply at the housing provident fund center with your income proof and contract.",
     "你应当带着收入证明和购房合同去住房公积金管理中心申请，也可以用 App 在线办理。"),
    ("off_topic", "北京烤鸭是一道著名的菜，需要用果木炭火烤制，皮脆肉嫩，配上荷叶饼和甜面酱一起吃，非常美味。",
     "个人住房公积金贷款要向当地管理中心申请，提交身份证明、收入证明和购房合同，审核通过后放款。"),
]


@pytest.mark.parametrize("name,bad,good", CASES, ids=[c[0] for c in CASES])
def test_detector_on_positive_and_negative_examples(name, bad, good):
    assert DETECTORS[name](bad, Q) is not None
    assert DETECTORS[name](good, Q) is None
    assert check(good, Q) is None  # and no other detector fires on a good answer


def test_quality_filter_reports_counts_and_examples():
    records = [SFTExample(id=f"s{k}", instruction=Q, output=bad) for k, (_, bad, _) in enumerate(CASES)]
    records.append(SFTExample(id="good", instruction=Q, output=CASES[0][2]))
    out, report = quality_filter(records)
    assert [r.id for r in out] == ["good"]
    assert report.reasons == {name: 1 for name, _, _ in CASES} and report.dropped == len(CASES)
    assert report.examples["ai_template"][0]["id"] == "s1" and "作为一个人工智能" in report.examples["ai_template"][0]["why"]


def test_pairs_are_judged_by_their_chosen_answer_and_instructions_alone():
    pair = PreferencePair(id="p", instruction=Q, chosen=CASES[0][2], rejected="作为一个AI，我不能回答。")
    assert quality_filter([pair])[0] == [pair]  # the rejected answer is meant to be bad
    instructions = [Instruction(id="1", text="好的"), Instruction(id="2", text=Q), Instruction(id="3", text="How do I apply for a loan at the bank?")]
    out, report = quality_filter(instructions)
    # a Chinese dataset: an instruction in another language is flagged too
    assert [r.id for r in out] == ["2"] and report.reasons == {"too_short": 1, "wrong_language": 1}
    with pytest.raises(ValueError, match="unknown detectors"):
        quality_filter(instructions, detectors=["nope"])
