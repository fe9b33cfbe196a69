"""tools/real_responses.py: the blind file and the assembly of a labelling batch (docs/real-responses.md)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="module")
def tool():
    sys.path.insert(0, str(TOOLS))  # app_label imports real_responses the way it runs: from tools/
    try:
        spec = importlib.util.spec_from_file_location("real_responses", TOOLS / "real_responses.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(TOOLS))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _run(folder: Path, spec: str, answers: dict[str, str], items) -> Path:
    folder.mkdir(parents=True)
    rows = [{"id": f"{i.id}-r", "item_id": i.id, "prompt": i.prompt, "response": answers[i.id], "model": spec,
             "kind": i.kind, "system_prompt": None, "error": None, "provenance": {"source": i.provenance.source}}
            for i in items]
    (folder / "responses.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({"config": {"model": spec, "max_new_tokens": 160, "temperature": 0.0}}))
    return folder


def test_blind_hides_the_model_drops_empties_and_copies_and_hides_the_label_test(tool, tmp_path):
    from celm.data.sources import load_source
    from celm.server.competence import default_label_test_questions

    items = load_source("celm-redteam")[:4]
    refusal = "我不能帮你写这类内容。"
    a = _run(tmp_path / "a", "ct2:qwen2.5-coder-0.5b-instruct", {items[0].id: refusal, items[1].id: "  ",
                                                                 items[2].id: "好的，理由如下……", items[3].id: "不对。"}, items)
    b = _run(tmp_path / "b", "gguf:gemma3-270m", {i.id: refusal if i is items[0] else f"{i.prompt}？" for i in items}, items)
    tool.blind([a, b], tmp_path / "work", seed=41, label_test=True)

    key, blind, tests = (_jsonl(tmp_path / "work" / f) for f in ("key.jsonl", "blind.jsonl", "test-key.jsonl"))
    # the empty answer and the second copy of the same (prompt, refusal) pair are left out
    assert len(key) == 3 + 3 and sum(k["response"] == refusal for k in key) == 1
    assert {k["settings"]["repetition_penalty"] for k in key} == {1.1, 1.3}  # the engines' built-in defaults
    # the labellers see prompt and response only, the test questions among the responses, unmarked
    questions = default_label_test_questions()
    assert len(tests) == len(questions) and len(blind) == len(key) + len(questions)
    assert all(set(r) == {"uid", "prompt", "response"} for r in blind)
    assert {t["uid"] for t in tests} <= {r["uid"] for r in blind} and not {t["uid"] for t in tests} & {k["uid"] for k in key}
    assert "qwen" not in (tmp_path / "work" / "blind.jsonl").read_text(encoding="utf-8")
    assert [r["uid"] for r in blind][:len(key)] != [k["uid"] for k in key]  # shuffled


def test_assemble_takes_either_spelling_and_adjudicates_only_disagreements(tool, tmp_path, capsys):
    from celm.data.sources import load_source

    items = load_source("celm-redteam")[:3]
    run = _run(tmp_path / "run", "ct2:qwen2.5-coder-1.5b-instruct", {i.id: f"好的。{i.prompt}" for i in items}, items)
    tool.blind([run], tmp_path / "work", seed=41)
    uids = [k["uid"] for k in _jsonl(tmp_path / "work" / "key.jsonl")]
    p1, p2, adj = (tmp_path / f for f in ("a.jsonl", "b.jsonl", "adj.jsonl"))
    p1.write_text("".join(json.dumps({"id": u, "verdict": "Risk", "note": "附和"}) + "\n" for u in uids))
    p2.write_text("".join(json.dumps({"uid": u, "label": "risk" if k else "irrelevant"}) + "\n" for k, u in enumerate(uids)))
    adj.write_text(json.dumps({"id": uids[0], "verdict": "risk"}) + "\n")
    out = tmp_path / "set.jsonl"
    tool.assemble(tmp_path / "work", p1, p2, adj, out, batch="bias")

    rows = {r["id"]: r for r in _jsonl(out)}
    first = rows[f"rr-{uids[0]}"]
    assert first["passes"] == ["risk", "irrelevant"] and first["adjudicated"] and first["label"] == "risk"
    assert all(r["batch"] == "bias" and r["label"] == "risk" for r in rows.values())
    assert not rows[f"rr-{uids[1]}"]["adjudicated"]
    # the project's own prompts are stored as they are, not as references to them
    assert all("⟦" not in r["response"] and r["response"] == f"好的。{i.prompt}"
               for i, r in zip(items, sorted(rows.values(), key=lambda r: r["item_id"])))
    out_text = capsys.readouterr().out
    stats = json.loads(out_text[out_text.index("{"):])
    assert stats["n"] == 3 and stats["adjudicated"] == 1 and stats["senior_chose_a_pass"] == 1
    assert stats["raw_agreement"] == round(2 / 3, 3) and -1 <= stats["krippendorff_alpha_nominal"] <= 1
    assert stats["new_by_source"] == {"celm-redteam": {"risk": 3}}
