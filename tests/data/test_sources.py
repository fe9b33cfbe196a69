"""Every public source loads with the row counts its MANIFEST states."""

import pytest

from celm.data import DataValidationError
from celm.data.records import EvalItem, JudgeExample, MultipleChoiceItem, PreferencePair
from celm.data.sources import SOURCES, load_source
from celm.data.sources.jade import map_subtype

EXPECTED = {
    "flames": (1000, EvalItem), "cvalues": (664, EvalItem), "safety-prompts": (13, None),
    "cold-train": (25726, JudgeExample), "cold-dev": (6431, JudgeExample), "cold-train-responses": (4000, JudgeExample),
    "jade-v1": (150, EvalItem), "jade-v2-easy": (1000, EvalItem), "jade-v2-medium": (1000, EvalItem),
    "jade-v3": (500, PreferencePair), "jade-v3-verdicts": (1000, JudgeExample), "xsafety": (2800, EvalItem), "safetybench": (2100, MultipleChoiceItem),
    "alpaca-zh-demo": (1000, None), "dpo-zh-demo": (300, PreferencePair),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_source_counts(shared_data, name):
    n, cls = EXPECTED[name]
    records = load_source(name)
    assert len(records) == n
    if cls:
        assert all(isinstance(r, cls) for r in records)
    assert len({r.id for r in records}) == n


def test_every_public_source_is_tested():
    # the celm-* sources are the project's own (celm-responses and celm-redteam: tests/data/test_real_responses.py)
    own = {"celm-bench", "celm-redteam", "celm-sft", "celm-pairs", "celm-judge", "celm-posts", "celm-responses"}
    assert set(SOURCES.names()) - own == set(EXPECTED)


def test_cold_comments_as_answers_keep_their_labels_and_ask_a_question(shared_data):
    from celm.data.sources.cold_responses import REQUESTS

    answers = load_source("cold-train-responses")
    comments = {e.id: e for e in load_source("cold-train")}
    asked = {q for qs in REQUESTS.values() for q in qs}
    for a in answers:
        comment = comments["cold-" + a.id[len("coldr-"):]]
        assert a.instruction in asked and (a.response, a.label) == (comment.response, comment.label)
    assert {a.label for a in answers} == {"risk", "safe"} and len({a.instruction for a in answers}) > 10
    assert [a.id for a in answers] == [a.id for a in load_source("cold-train-responses")]  # the same every time


def test_jade_answers_as_verdicts_keep_the_pair_and_tell_refusals_apart(shared_data):
    from celm.judge.rules.refusal import detect_refusal

    pairs = {p.id: p for p in load_source("jade-v3")}
    verdicts = load_source("jade-v3-verdicts")
    for v in verdicts:
        pair_id, side = v.id.rsplit("-", 1)
        pair = pairs[pair_id]
        assert v.instruction == pair.instruction and v.response == getattr(pair, side)
        assert v.label == ("risk" if side == "rejected" else "reject" if detect_refusal(v.response).refusal else "safe")
    labels = {v.label for v in verdicts}
    assert labels == {"risk", "reject", "safe"}  # JADE's safe answers are refusals and helpful answers both


def test_quirks_are_handled(shared_data):
    v2 = load_source("jade-v2-medium")
    cats = {r.provenance.original_category.split("/")[0] for r in v2}
    assert cats == {"违法犯罪", "侵害权益", "歧视偏见"}  # stray space and 侵犯权益 folded
    v3 = load_source("jade-v3")  # GB18030 with multi-line cells
    assert any("\n" in p.rejected for p in v3)
    assert all(p.chosen != p.rejected for p in v3)
    sb = load_source("safetybench")
    assert all(item.answer is not None for item in sb)
    cold = load_source("cold-dev")
    assert {e.label for e in cold} == {"safe", "risk"}
    assert {e.provenance.original_category for e in cold} == {"race", "gender", "region"}


def test_category_maps_keep_originals(shared_data):
    flames = load_source("flames")
    assert all(r.provenance.original_category for r in flames)
    unmapped = [r for r in flames if r.scenario is None]
    assert unmapped and all("Non-anthropomorphism" in r.provenance.original_category or "Law" in r.provenance.original_category
                            or "Sensitive" in r.provenance.original_category or "environmental" in r.provenance.original_category
                            for r in unmapped)
    assert map_subtype("侵害他人隐私权|侵害他人个人信息权益") == "privacy_protection"
    assert map_subtype("年龄歧视内容") == "discrimination"
    assert map_subtype("偷窃") is None


def test_loader_reports_bad_rows(tmp_path):
    bad = tmp_path / "jade.csv"
    bad.write_text("ID,问题,违规类型,违规子类\n1,,违法犯罪,诈骗\n2,正常问题,违法犯罪,诈骗\n", encoding="utf-8-sig")
    with pytest.raises(DataValidationError, match=r"jade.csv:2: 问题: empty text"):
        load_source("jade-v1", bad)
    with pytest.raises(FileNotFoundError):
        load_source("flames", tmp_path / "missing")


def test_hub_path_downloads_the_publishers_file(monkeypatch, tmp_path, shared_data):
    """hf://OWNER/NAME fetches the file the loader expects from the hub, then loads it as usual."""
    import huggingface_hub

    calls = []

    def fake_download(repo_id, filename, repo_type):
        calls.append((repo_id, filename, repo_type))
        return str(shared_data / "cold" / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    records = load_source("cold-dev", "hf://thu-coai/cold")
    assert calls == [("thu-coai/cold", "dev.csv", "dataset")] and len(records) == 6431


def test_file_or_source_is_decided_in_one_place(tmp_path):
    from celm.data.sources import load_file_or_source

    with pytest.raises(FileNotFoundError, match="did you mean 'celm-bench'"):
        load_file_or_source("celm-bnech")
    assert len(load_file_or_source("celm-sft")) == 17
    (tmp_path / "items.jsonl").write_text('{"id": "a", "prompt": "你好"}\n', encoding="utf-8")
    assert [r.id for r in load_file_or_source("items.jsonl", base_dir=tmp_path)] == ["a"]
