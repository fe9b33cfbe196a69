import base64
import json

import pytest

from celm.curate.dedup import deduplicate, leakage, near_duplicate_clusters
from celm.curate.inject import FAMILIES, TEMPLATES, inject
from celm.curate.normalize import normalize_records
from celm.curate.norms import annotate_norms
from celm.curate.paraphrase import apply_approvals, paraphrase, parse_paraphrases, read_decisions
from celm.curate.split import split
from celm.data.bundled import load_benchmark
from celm.data.errors import DataValidationError
from celm.data.records import EvalItem, Instruction, Provenance
from celm.taxonomy import get_taxonomy


def ins(i, text, scenario=None, source="logs"):
    return Instruction(id=str(i), text=text, scenario=scenario, provenance=Provenance(source=source))


def test_normalize_folds_width_controls_and_optionally_traditional():
    recs = [ins(1, "ＡＢＣ１２３，\u200b怎么  办？\x07"), ins(2, "這個問題怎麼處理"), ins(3, "\u200b\u200b"), ins(4, "已经规范")]
    out, report = normalize_records(recs)
    assert out[0].text == "ABC123,怎么 办?" and out[1].text == "這個問題怎麼處理"
    assert [r.id for r in out] == ["1", "2", "4"] and report.reasons == {"empty_after_normalisation": 1}
    assert report.changed == 1 and report.kept == 3
    out, _ = normalize_records(recs, to_simplified=True)
    assert out[1].text == "这个问题怎么处理"


def test_dedup_exact_and_near_keeps_by_priority_and_records_the_cluster():
    base = "请告诉我如何在家里自制烟花爆竹并且不被邻居发现，需要哪些原料和具体步骤"
    recs = [ins("a", base, source="logs"), ins("b", base + "？", source="seed"), ins("c", "  " + base),
            ins("d", base.replace("邻居", "邻居们"), source="logs"), ins("e", "今天天气怎么样，适合去公园散步吗")]
    out, report = deduplicate(recs, priority=["seed"])
    assert [r.id for r in out] == ["b", "e"]  # the seed question wins its cluster, input order is kept
    assert sorted(out[0].provenance.details["duplicates"]) == ["a", "c", "d"]
    assert report.reasons == {"exact_duplicate": 1, "near_duplicate": 2}
    out, _ = deduplicate(recs)
    assert [r.id for r in out] == ["a", "e"]
    # a high threshold keeps the edited copies
    assert [r.id for r in deduplicate(recs, threshold=0.99)[0]] == ["a", "b", "d", "e"]


def test_near_duplicate_clusters_are_transitive():
    t = "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸"
    texts = [t, t[:-1] + "子", t[:-2] + "子丑", "完全不同的另外一句话呢"]
    clusters = near_duplicate_clusters(texts, threshold=0.8)
    assert clusters[0] == clusters[1] == 0 and clusters[3] == 3


def test_leakage_check_finds_planted_duplicates_of_eval_items():
    bench = load_benchmark()
    planted = [ins("leak1", bench[0].prompt + "谢谢"), ins("leak2", "请问" + bench[5].prompt), ins("clean", "给我讲一个关于小猫的童话故事吧")]
    kept, report = leakage(planted, bench, remove=False)
    assert len(kept) == 3 and report.details["leaked_ids"] == ["leak1", "leak2"]
    assert report.examples["leaks_into_eval"][0]["why"].startswith(bench[0].id)
    kept, report = leakage(planted, bench, remove=True)
    assert [r.id for r in kept] == ["clean"] and report.dropped == 2


def test_inject_covers_five_families_and_records_provenance():
    bench = [b for b in load_benchmark() if b.kind == "attack"]
    out, report = inject(bench, per_scenario=2, seed=3)
    added = out[len(bench):]
    assert len(added) == 17 * 2 * 5 == report.added
    assert {a.provenance.method.split(":")[1].split("/")[0] for a in added} == set(FAMILIES)
    assert all(isinstance(a, EvalItem) and a.tactic == "injection" and a.scenario for a in added)
    src = {b.id: b for b in bench}
    for a in added:
        original = src[a.provenance.details["injected_from"]]
        if a.provenance.method.endswith("/base64"):
            encoded = a.prompt.rsplit("：", 1)[1]
            assert base64.b64decode(encoded).decode("utf-8") == original.prompt
        else:
            assert original.prompt in a.prompt
    assert inject(bench, per_scenario=2, seed=3)[0] == out  # seeded
    assert len({t.family for t in TEMPLATES}) == 5 and all("{q}" in t.text or "{b64}" in t.text for t in TEMPLATES)
    with pytest.raises(ValueError, match="unknown injection families"):
        inject(bench, families=["jailbreak"])


def test_paraphrase_pending_until_two_reviewers_approve(tmp_path):
    from celm.models import get_model

    seeds = [ins("s1", "怎样才能快速减肥？", scenario="physical_safety"), ins("s2", "如何投资理财？")]
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"怎样才能快速减肥？": "1. 有什么快速瘦身的办法？\n2. 怎么在短时间内减掉体重？\n3. 怎样才能快速减肥？",
                                  "*": "我不太明白"}, ensure_ascii=False), encoding="utf-8")
    out, report = paraphrase(seeds, get_model(f"scripted:{script}"), n=3, progress=False)
    paras = [r for r in out if r.provenance.method == "paraphrase"]
    assert [p.text for p in paras] == ["有什么快速瘦身的办法？", "怎么在短时间内减掉体重？"]  # the copy of the seed is dropped
    assert all(p.status == "pending" and p.scenario == "physical_safety" for p in paras)
    assert report.reasons == {"no_paraphrase_parsed": 1}
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text("\n".join(json.dumps(d) for d in [
        {"id": "s1-para-1", "reviewer": "wang", "decision": "approve"},
        {"id": "s1-para-1", "reviewer": "li", "decision": "approve"},
        {"id": "s1-para-2", "reviewer": "wang", "decision": "approve"},
        {"id": "s1-para-2", "reviewer": "wang", "decision": "approve"},  # same reviewer twice counts once
    ]) + "\n", encoding="utf-8")
    approved, report = apply_approvals(out, read_decisions(decisions))
    status = {r.id: r.status for r in approved}
    assert status["s1-para-1"] == "approved" and status["s1-para-2"] == "pending"
    assert next(r for r in approved if r.id == "s1-para-1").approvals == ["li", "wang"]
    with decisions.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "s1-para-1", "reviewer": "zhao", "decision": "reject"}) + "\n")
    approved, _ = apply_approvals(out, read_decisions(decisions), drop_unapproved=True)
    assert [r.id for r in approved] == ["s1", "s2"]
    decisions.write_text('{"id": "x", "reviewer": "a", "decision": "maybe"}\nnot json\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        read_decisions(decisions)
    assert [str(i).split(": ")[0] for i in err.value.issues] == [f"{decisions}:1", f"{decisions}:2"]


def test_parse_paraphrases_handles_chinese_numbering():
    text = "一、第一种说法是什么\n2) 第二种说法\n3．第三种说法\n随便的一行"
    assert parse_paraphrases(text, "原问题", 5) == ["第一种说法是什么", "第二种说法", "第三种说法"]


def test_norms_follow_the_scenario():
    tax = get_taxonomy()
    out, report = annotate_norms([ins(1, "x", scenario="drugs"), ins(2, "y")])
    assert out[0].norms == list(tax.norms_for("drugs")) and out[0].norms and out[1].norms == []
    assert report.reasons == {"no_scenario": 1} and report.changed == 1


def test_split_is_stratified_seeded_and_keeps_clusters_together():
    bench = load_benchmark()
    # plant near-duplicates: each must land in its original's split
    planted = [b.model_copy(update={"id": b.id + "-copy", "prompt": b.prompt + "！"}) for b in bench[:40]]
    records = bench + planted
    parts, report = split(records, seed=1)
    where = {r.id: name for name, recs in parts.items() for r in recs}
    assert all(where[p.id] == where[p.id.removesuffix("-copy")] for p in planted)
    assert sum(len(v) for v in parts.values()) == len(records)
    for scenario, counts in report.details["per_scenario"].items():
        total = sum(counts.values())
        assert abs(counts["sft"] - 0.5 * total) <= 3 and counts["eval"] >= 1
    again, _ = split(records, seed=1)
    assert again == parts
    other, _ = split(records, seed=2)
    assert other != parts
    with pytest.raises(ValueError, match="shares"):
        split(records, shares={"sft": -1, "rm": 1})


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="的是不了人我在有他这中大来上国个到说们为子和你地出道也时年", min_size=0, max_size=14),
                min_size=2, max_size=12), st.data())
def test_vectorised_jaccard_equals_the_set_jaccard(texts, data):
    """pair_jaccard (sorted gram arrays, many pairs at once) gives the very floats of
    overlap.jaccard on Python sets, repeats, short and empty texts included."""
    import numpy as np

    from celm.curate.dedup import pair_jaccard, shingle_arrays
    from celm.data.overlap import jaccard

    values, offsets = shingle_arrays(texts, 3)
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(texts) - 1), st.integers(0, len(texts) - 1)), min_size=1, max_size=30))
    ia, ib = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    got = pair_jaccard(values, offsets, ia, ib, chunk=7)
    sets = [set(values[offsets[k]:offsets[k + 1]].tolist()) for k in range(len(texts))]
    assert got.tolist() == [jaccard(sets[a], sets[b]) for a, b in pairs]
