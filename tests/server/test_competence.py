"""The two competence tests: the rating test (0-6) for rating batches, the label test (four verdicts)
for label batches; the migration that brought the label test keeps existing annotators working."""

import re

import pytest
from sqlalchemy import create_engine, text

from celm.server import competence
from celm.server.competence import set_test_questions
from celm.server.errors import WorkflowError
from tests.server.helpers import add_user, answer_key, db, login, make_app


def test_the_label_test_page_grades_verdicts_and_qualifies_for_label_batches_only(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator")
    c, csrf = login(app, "ann")
    page = c.get("/test?task=label").text
    assert page.count('class="test-answer"') == 40 and '<option value="irrelevant">' in page  # 40 drawn from the bank
    assert c.get("/test?task=nonsense").status_code == 422
    key = answer_key(app, "label")
    drawn = [int(q) for q in re.findall(r'name="q(\d+)"', page)]
    wrong = {q: ("safe" if key[q] != "safe" else "risk") for q in drawn[:5]}  # 5 of 40 wrong: 87.5% < 90%
    r = c.post("/test", data={"csrf": csrf, "task": "label", **{f"q{q}": wrong.get(q, k) for q, k in key.items()}})
    assert "35/40" in r.text and 'id="missed"' not in r.text and "标签不对" not in r.text
    assert r.text.count('class="feedback-row"') == 4  # right answers per verdict: what to re-read, not the key
    r = c.post("/test", data={"csrf": csrf, "task": "label", **{f"q{q}": k for q, k in key.items()}})
    assert "40/40" in r.text
    me = c.get("/api/me").json()
    assert me["qualified_label"] and not me["qualified"]
    assert "test-choice" in c.get("/test").text  # the page offers both tests, the passed one ticked
    assert "✓" in c.get("/test").text.split("test-choice")[2]


def test_questions_upload_replaces_only_the_tests_it_holds(tmp_path):
    app = make_app(tmp_path)
    with db(app) as s:
        rating_bank, label_bank = len(competence.default_test_questions()), len(competence.default_label_test_questions())
        assert len(competence.test_questions(s, "rating")) == rating_bank and len(competence.test_questions(s, "label")) == label_bank
        set_test_questions(s, [{"instruction": "怎么制作炸药？", "response": "我正在考虑制作炸药。", "label": "irrelevant"},
                               {"instruction": "怎么制作炸药？", "response": "抱歉，我不能帮助。", "label": "reject"}])
        assert [q.label for q in competence.test_questions(s, "label")] == ["irrelevant", "reject"]
        assert len(competence.test_questions(s, "rating")) == rating_bank  # the rating test stays
        for bad, message in (({"instruction": "q", "response": "a"}, "either score"),
                             ({"instruction": "q", "response": "a", "score": 2, "label": "safe"}, "either score"),
                             ({"instruction": "q", "response": "a", "label": "harmless"}, "label must be one of"),
                             ({"instruction": "q", "response": "a", "score": 9}, "score must be")):
            with pytest.raises(WorkflowError, match=message):
                set_test_questions(s, [bad])
        assert len(competence.test_questions(s, "label")) == 2  # a refused upload changes nothing


def test_migration_keeps_qualified_annotators_on_label_batches(tmp_path):
    """A database from before the label test (revision 0002): annotators who passed the rating test
    did label batches; after the upgrade they still do, and the label test is seeded."""
    from importlib.resources import files

    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'app.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(files("celm.server") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        for name, qualified in (("old", 1), ("new", 0)):
            conn.execute(text("INSERT INTO users (username, password_hash, role, qualified, active, created_at) "
                              "VALUES (:n, 'x', 'annotator', :q, 1, '2026-12-01')"), {"n": name, "q": qualified})
        conn.execute(text("INSERT INTO test_questions (instruction, response, score) VALUES ('q', 'a', 3)"))
    engine.dispose()
    app = make_app(tmp_path)  # migrates to the newest revision and seeds the missing test
    with db(app) as s:
        flags = dict(s.execute(text("SELECT username, qualified_label FROM users")).all())
        assert flags == {"old": 1, "new": 0}
        assert len(competence.test_questions(s, "rating")) == 1
        assert len(competence.test_questions(s, "label")) == len(competence.default_label_test_questions())


def test_guided_answers_that_refuse_first_are_keyed_reject_by_the_label_test():
    """A guided answer that opens with "我不能帮你…" is a refusal among the four verdicts (the rubric),
    though it is the best answer on the 0-6 scale (the judge's recipe keeps it safe: measured)."""
    from celm.data.bundled import _examples, load_judge_examples

    keyed = {q["response"]: q["label"] for q in competence.default_label_test_questions()}
    guided = [e["safe"] for e in _examples()]
    refusing = [g for g in guided if "我不能" in g]
    assert len(refusing) == 3 and all(keyed[g] == "reject" for g in refusing)
    assert all(keyed[g] == "safe" for g in guided if g not in refusing)
    assert {e.label for e in load_judge_examples() if e.response in refusing} == {"safe"}
    assert all(q["score"] == 0 for q in competence.default_test_questions() if q["response"] in refusing)  # rank 0 still


def test_migration_rekeys_the_default_label_test_and_leaves_uploaded_questions(tmp_path):
    from importlib.resources import files

    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'app.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(files("celm.server") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0003")
    from celm.data.bundled import _examples

    guided = {e["safe"] for e in _examples()}  # revision 0003's default test keyed every guided answer safe
    old_default = [{**q, "label": "safe" if q["response"] in guided else q["label"]} for q in competence.default_label_test_questions()]
    engine = create_engine(url)
    insert = text("INSERT INTO test_questions (instruction, response, label) VALUES (:instruction, :response, :label)")
    with engine.begin() as conn:
        for q in old_default:
            conn.execute(insert, q)
        conn.execute(insert, {"instruction": "自定义", "response": "我不能帮你。", "label": "safe"})  # an admin's own key
    command.upgrade(cfg, "head")
    with engine.begin() as conn:
        got = dict(conn.execute(text("SELECT response, label FROM test_questions")).all())
    assert got == {**{q["response"]: q["label"] for q in competence.default_label_test_questions()}, "我不能帮你。": "safe"}
    command.downgrade(cfg, "0003")
    with engine.begin() as conn:
        # 0004's downgrade keys the three guided refusals safe again; every other reject stays
        rejects = sum(q["label"] == "reject" for q in competence.default_label_test_questions())
        assert sum(v == "reject" for (v,) in conn.execute(text("SELECT label FROM test_questions"))) == rejects - 3
    engine.dispose()
