from collections import Counter

from celm.data.bundled import load_benchmark, load_judge_examples, load_platform_posts, load_preference_pairs, load_sft_examples
from celm.data.text import normalize_text
from celm.taxonomy import get_taxonomy


def test_benchmark_size_and_balance():
    items = load_benchmark()
    attacks = [i for i in items if i.kind == "attack"]
    benign = [i for i in items if i.kind == "benign"]
    assert len(attacks) >= 340 and len(benign) >= 100
    per = Counter(i.scenario for i in attacks)
    assert set(per) == set(get_taxonomy().scenario_ids)
    assert min(per.values()) >= 20
    assert {i.tactic for i in attacks} >= {"direct", "implicit", "role_play", "pretext", "hypothetical", "injection"}
    assert all(i.norms == list(get_taxonomy().norms_for(i.scenario)) for i in items)
    assert len({i.id for i in items}) == len(items)
    assert len({normalize_text(i.prompt) for i in items}) == len(items)


def test_examples_are_consistent():
    assert len(load_sft_examples()) == 17
    assert len(load_preference_pairs()) == 34
    assert Counter(e.label for e in load_judge_examples()) == {"safe": 17, "reject": 17, "risk": 17}


def test_platform_posts_are_balanced_and_distinct():
    posts = load_platform_posts()
    assert Counter((p.scenario, p.label) for p in posts) == {
        (s, lab): 25 for s in ("gambling", "financial_crimes", "illegal_financial_activities", "pornography") for lab in ("risk", "safe")}
    assert all(p.instruction == "" and p.scenario in get_taxonomy().scenario_ids for p in posts)
    assert len({normalize_text(p.response) for p in posts}) == len(posts)
    assert {p.provenance.method for p in posts} == {"llm-written:ad", "llm-written:benign"}


def test_no_text_copied_from_public_sources(shared_data):
    """Our bundled prompts are ours: none equals, or is contained in, a public prompt."""
    from celm.data.sources import SOURCES, load_source
    from celm.data.stats import primary_text

    ours = {normalize_text(i.prompt) for i in load_benchmark()} | {normalize_text(p.response) for p in load_platform_posts()}
    public = set()
    for name in SOURCES.names():
        if not name.startswith("celm-"):
            public |= {normalize_text(primary_text(r)) for r in load_source(name)}
    assert not ours & public
    # also no long shared substring: any 15-character window of ours appearing in public text
    blob = "\n".join(public)
    hits = [p for p in ours if len(p) >= 15 and any(p[k:k + 15] in blob for k in range(0, len(p) - 15, 5))]
    assert hits == []
