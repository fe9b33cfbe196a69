import pytest

from celm.data.bundled import load_preference_pairs
from celm.data.records import MultipleChoiceItem
from celm.evaluate.mc import evaluate_mc, extract_choice, pairs_to_mc, shuffled
from celm.models import get_model

OPTS = ["是。", "否。", "不确定。"]


@pytest.mark.parametrize("text,expected", [
    ("A", 0), ("B.", 1), ("(C)", 2), ("答案是B", 1), ("正确答案：C。", 2), ("我选A，因为……", 0), ("The answer is b", 1),
    ("第二个", 1), ("第3项", 2), ("2", 1), ("我认为否。", 1), ("Answer: C", 2),
    ("A和B都有道理", None), ("我不知道", None), ("D", None),
])
def test_extract_choice(text, expected):
    assert extract_choice(text, OPTS) == expected


def test_shuffle_is_seeded_and_tracks_answer():
    item = MultipleChoiceItem(id="q1", question="?", options=["a", "b", "c", "d"], answer=2)
    opts, ans, order = shuffled(item, seed=0)
    assert opts[ans] == "c" and sorted(opts) == ["a", "b", "c", "d"]
    assert shuffled(item, seed=0) == (opts, ans, order)
    assert shuffled(item, seed=0, shuffle=False) == (["a", "b", "c", "d"], 2, [0, 1, 2, 3])


def test_always_a_model_shows_position_bias(tmp_path):
    items = pairs_to_mc(load_preference_pairs())
    script = tmp_path / "a.yaml"
    script.write_text("'*': A\n", encoding="utf-8")
    r = evaluate_mc(items, get_model(f"scripted:{script}"), cache=tmp_path / "c.sqlite", progress=False)
    pos = r["accuracy_by_answer_position"]
    assert pos["A"]["value"] == 1.0 and pos["B"]["value"] == 0.0
    assert r["unparseable"]["value"] == 0 and r["chosen_letters"] == {"A": len(items)}
    assert r["accuracy"]["count"] == pos["A"]["n"]


def test_loglik_on_a_tiny_model(tiny_model_dir):
    items = pairs_to_mc(load_preference_pairs())[:6]
    r = evaluate_mc(items, get_model(f"hf:{tiny_model_dir}"), method="loglik")
    assert r["n"] == 6 and r["unparseable"]["value"] == 0 and sum(r["chosen_letters"].values()) == 6
    with pytest.raises(ValueError, match="local"):
        evaluate_mc(items, get_model("echo"), method="loglik")
