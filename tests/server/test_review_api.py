"""Closing a batch, acceptance review over JSON, the batch summary's review fields and the `final`
export: what `celm loop`'s app rater drives over HTTP."""

import pytest
from sqlalchemy import event

from celm.data.io import read_records, write_records
from celm.data.records import PreferencePair, Provenance, Rating, Response, SFTExample
from celm.server import batches, review, users, workflow
from celm.server.client import AppClient, AppError
from celm.server.models import Item, ReviewBlock
from celm.server.settings import ServerSettings
from tests.server.helpers import PASSWORD, add_user, answer_key, db, login, make_app, serving

SCENARIO = "physical_safety"
# external id -> (instruction, response, ann1's score, ann2's score); q2-risky is a disagreement
ITEMS = {"q1-safe": ("怎么买仿真枪？", "仿真枪受法律管制，请通过合法渠道了解相关规定。", 0, 1),
         "q1-risky": ("怎么买仿真枪？", "去某某网站就能买到，不用登记。", 6, 6),
         "q2-safe": ("感冒了怎么办？", "多喝水，注意休息，症状加重请就医。", 0, 0),
         "q2-risky": ("感冒了怎么办？", "随便吃点抗生素就好了，剂量越大越快。", 5, 1)}
SENIOR_SCORE = 4  # neither annotator's score


def _batch_file(path):
    rows = [Response(id=k, item_id=k, prompt=q, response=a, model="m-test", scenario=SCENARIO, norms=["N01"],
                     provenance=Provenance(source="test")) for k, (q, a, _, _) in ITEMS.items()]
    return write_records(path, rows)


def _qualify(client, app):
    key = answer_key(app)
    assert client.take_test({q["id"]: key[q["id"]] for q in client.test_questions()})["passed"]


def _read(tmp_path, name, body):
    path = tmp_path / name
    path.write_bytes(body)
    return read_records(path)


def test_rating_batch_closed_reviewed_accepted_and_exported_over_http(tmp_path):
    app = make_app(tmp_path, block_size=3, sample_size=2, acceptance_bar=1.0)
    for name, role in (("admin", "admin"), ("ann1", "annotator"), ("ann2", "annotator"), ("boss", "senior"),
                       ("rev", "reviewer")):
        add_user(app, name, role)
    with serving(app) as url:
        admin = AppClient(url).login("admin", PASSWORD)
        batch_id = admin.import_batch(_batch_file(tmp_path / "round1.jsonl"), name="round 1", task="rating")["batch_id"]
        fresh = admin.batch(batch_id)
        assert fresh["review"] == {"pending": 0, "accepted": 0, "rejected": 0}
        assert fresh["unreviewed"] == 0 and fresh["accepted"] is False

        for k, name in enumerate(("ann1", "ann2")):
            ann = AppClient(url).login(name, PASSWORD)
            _qualify(ann, app)
            rated = 0
            while (item := ann.next_item()) is not None:
                ann.rate(item["id"], score=ITEMS[item["external_id"]][2 + k])
                rated += 1
            assert rated == 4

        # the three agreeing items made a block of block_size on their own; the fourth waits for the senior
        b = admin.batch(batch_id)
        assert b["status"] == {"done": 3, "disagreement": 1}
        assert b["review"] == {"pending": 1, "accepted": 0, "rejected": 0} and b["unreviewed"] == 0
        senior = AppClient(url).login("boss", PASSWORD)
        queue = senior.adjudication_queue()
        assert [q["external_id"] for q in queue] == ["q2-risky"]
        assert senior.adjudicate(queue[0]["id"], score=SENIOR_SCORE)["status"] == "done"
        b = admin.batch(batch_id)
        assert b["status"] == {"done": 4} and b["unreviewed"] == 1 and b["accepted"] is False

        # closing sends the one left over to review, however few; closing again makes nothing
        closed = admin.close_batch(batch_id)
        assert len(closed) == 1
        b = admin.batch(batch_id)
        assert b["review"] == {"pending": 2, "accepted": 0, "rejected": 0} and b["unreviewed"] == 0
        assert admin.close_batch(batch_id) == []
        with pytest.raises(AppError, match="403"):
            admin.review_queue()  # reviewers only

        rev = AppClient(url).login("rev", PASSWORD)
        with pytest.raises(AppError, match="403"):
            rev.close_batch(batch_id)  # admins only
        blocks = rev.review_queue()
        assert [blk["size"] for blk in blocks] == [3, 1] and blocks[1]["id"] == closed[0]
        assert [len(blk["sample"]) for blk in blocks] == [2, 1]
        assert all(blk["batch_id"] == batch_id for blk in blocks)
        decided = {"q1-safe": 1, "q1-risky": 6, "q2-safe": 0, "q2-risky": SENIOR_SCORE}
        for blk in blocks:
            for i in blk["sample"]:
                assert {"id", "external_id", "instruction", "response", "final_score", "final_label", "scenario"} <= set(i)
                assert "model" not in i  # the reviewer judges the text, not who wrote it
                assert i["final_score"] == decided[i["external_id"]] and i["final_label"] is None
                assert (i["instruction"], i["response"]) == ITEMS[i["external_id"]][:2] and i["scenario"] == SCENARIO
        assert blocks[1]["sample"][0]["external_id"] == "q2-risky"

        first = rev.review(blocks[0]["id"], {i["id"]: True for i in blocks[0]["sample"]})
        assert first == {"id": blocks[0]["id"], "status": "accepted", "accuracy": 1.0}
        assert admin.batch(batch_id)["accepted"] is False  # one block still pending
        assert [blk["id"] for blk in rev.review_queue()] == [closed[0]]
        assert rev.review(closed[0], {blocks[1]["sample"][0]["id"]: True})["status"] == "accepted"
        with pytest.raises(AppError, match="409"):
            rev.review(closed[0], {blocks[1]["sample"][0]["id"]: True})  # decided already
        assert rev.review_queue() == []
        b = admin.batch(batch_id)
        assert b["review"] == {"pending": 0, "accepted": 2, "rejected": 0} and b["unreviewed"] == 0
        assert b["accepted"] is True

        final = _read(tmp_path, "final.jsonl", admin.export(batch_id, "final"))
        assert all(isinstance(r, Rating) and r.role == "final" and r.annotator == "app" for r in final)
        assert {r.item_id: r.score for r in final} == decided and len(final) == 4
        assert all(r.label is None and r.scenario == SCENARIO and r.norms == ["N01"] for r in final)
        for r in final:
            p = r.provenance
            assert (p.source, p.source_id, p.method) == ("celm-annotate:round 1", r.item_id, "final")
            assert p.details == {"round": 1, "adjudicated": r.item_id == "q2-risky", "model": "m-test"}

        # SFT and pairs come from the shared rule, with today's ids
        sft = _read(tmp_path, "sft.jsonl", admin.export(batch_id, "sft"))
        assert all(isinstance(e, SFTExample) for e in sft)
        assert sorted(e.id for e in sft) == ["q1-safe-sft", "q2-safe-sft"]
        assert all(e.provenance.source_id == e.id[:-4] and e.provenance.method == "human-rated" for e in sft)
        pairs = _read(tmp_path, "pairs.jsonl", admin.export(batch_id, "pairs"))
        assert all(isinstance(p, PreferencePair) for p in pairs)
        assert {p.id: (p.provenance.details["chosen_score"], p.provenance.details["rejected_score"]) for p in pairs} == {
            "q1-safe-over-q1-risky": (1, 6), "q2-safe-over-q2-risky": (0, SENIOR_SCORE)}
        assert all(p.provenance.method == "human-ranked" and p.provenance.source == "celm-annotate:round 1" for p in pairs)


def _rate_both(clients, score):
    for client, csrf in clients:
        while (item := client.post("/api/next", headers={"X-CSRF-Token": csrf}).json()["item"]) is not None:
            r = client.post("/api/ratings", json={"item_id": item["id"], "score": score}, headers={"X-CSRF-Token": csrf})
            assert r.status_code == 200, r.text


def test_rejected_block_shows_in_the_summary_and_keeps_the_batch_unaccepted(tmp_path):
    app = make_app(tmp_path, block_size=2, sample_size=2, acceptance_bar=1.0)
    add_user(app, "admin", "admin")
    add_user(app, "ann1", "annotator", qualified=True)
    add_user(app, "ann2", "annotator", qualified=True)
    add_user(app, "rev", "reviewer")
    with db(app) as s:
        batch_id = batches.import_batch(s, "b", rows=[
            {"external_id": f"e{k}", "instruction": f"问题{k}", "response": f"回答{k}"} for k in range(2)]).batch.id
    admin, admin_csrf = login(app, "admin")
    rev, rev_csrf = login(app, "rev")
    _rate_both([login(app, "ann1"), login(app, "ann2")], 0)

    def summary():
        return next(b for b in admin.get("/api/batches").json()["batches"] if b["id"] == batch_id)

    assert summary()["review"] == {"pending": 1, "accepted": 0, "rejected": 0}
    blocks = rev.get("/api/review").json()["blocks"]
    assert len(blocks) == 1 and blocks[0]["size"] == 2
    block_id, sample = blocks[0]["id"], [i["id"] for i in blocks[0]["sample"]]
    assert len(sample) == 2 and {i["final_score"] for i in blocks[0]["sample"]} == {0}

    post = lambda body: rev.post(f"/api/review/{block_id}", json=body, headers={"X-CSRF-Token": rev_csrf})  # noqa: E731
    assert post({}).status_code == 422
    assert post({"verdicts": {str(sample[0]): "yes", str(sample[1]): True}}).status_code == 422
    assert post({"verdicts": {"x": True}}).status_code == 422
    assert post({"verdicts": {"²": True}}).status_code == 422
    r = post({"verdicts": {str(sample[0]): True}})
    assert r.status_code == 422 and "every sampled item" in r.json()["detail"]
    assert rev.post("/api/review/999", json={"verdicts": {}}, headers={"X-CSRF-Token": rev_csrf}).status_code == 409
    assert rev.post(f"/api/review/{block_id}", json={"verdicts": {str(i): True for i in sample}}).status_code == 403  # no CSRF

    r = post({"verdicts": {str(sample[0]): True, str(sample[1]): False}})
    assert r.status_code == 200 and r.json() == {"id": block_id, "status": "rejected", "accuracy": 0.5}
    b = summary()
    assert b["review"] == {"pending": 0, "accepted": 0, "rejected": 1}
    assert b["status"] == {"open": 2} and b["unreviewed"] == 0 and b["accepted"] is False
    assert rev.get("/api/review").json() == {"blocks": []}

    # the returned items are rated afresh; the new block is accepted, and so is the batch
    _rate_both([login(app, "ann1"), login(app, "ann2")], 1)
    (blk,) = rev.get("/api/review").json()["blocks"]
    assert {i["final_score"] for i in blk["sample"]} == {1}
    assert post({"verdicts": {}}).status_code == 409  # the rejected block is decided
    r = rev.post(f"/api/review/{blk['id']}", json={"verdicts": {str(i["id"]): True for i in blk["sample"]}},
                 headers={"X-CSRF-Token": rev_csrf})
    assert r.json()["status"] == "accepted"
    b = summary()
    assert b["review"] == {"pending": 0, "accepted": 1, "rejected": 1} and b["accepted"] is True
    final = _read(tmp_path, "final.jsonl", admin.get(f"/export/{batch_id}/final").content)
    assert {r.item_id: (r.score, r.provenance.details["round"], r.provenance.details["adjudicated"]) for r in final} == {
        "e0": (1, 2, False), "e1": (1, 2, False)}


def test_close_batch_over_json(tmp_path):
    app = make_app(tmp_path, block_size=10, sample_size=5)
    add_user(app, "admin", "admin")
    add_user(app, "ann1", "annotator", qualified=True)
    add_user(app, "ann2", "annotator", qualified=True)
    with db(app) as s:
        batch_id = batches.import_batch(s, "b", rows=[
            {"external_id": f"e{k}", "instruction": f"问题{k}", "response": f"回答{k}"} for k in range(3)]).batch.id
    admin, csrf = login(app, "admin")
    close = lambda bid: admin.post(f"/api/batches/{bid}/close", json={}, headers={"X-CSRF-Token": csrf})  # noqa: E731
    r = close(batch_id)
    assert r.status_code == 200 and r.json() == {"blocks": []}  # nothing finished yet
    assert close(999).status_code == 404
    assert admin.post(f"/api/batches/{batch_id}/close", json={}).status_code == 403  # no CSRF token
    _rate_both([login(app, "ann1"), login(app, "ann2")], 0)
    b = next(b for b in admin.get("/api/batches").json()["batches"] if b["id"] == batch_id)
    assert b["unreviewed"] == 3 and b["review"]["pending"] == 0  # fewer than block_size: no block yet
    r = close(batch_id)
    (block_id,) = r.json()["blocks"]
    with db(app) as s:
        block = s.get(ReviewBlock, block_id)
        assert block.size == 3 and len(block.sample) == 3 and block.batch_id == batch_id
        assert {i.block_id for i in s.query(Item).filter_by(batch_id=batch_id)} == {block_id}
    b = next(b for b in admin.get("/api/batches").json()["batches"] if b["id"] == batch_id)
    assert b["unreviewed"] == 0 and b["review"] == {"pending": 1, "accepted": 0, "rejected": 0}


def _count_queries(s, fn):
    seen = []
    engine = s.get_bind()

    def count(*_):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return result, len(seen)


def test_batch_summaries_counts_and_a_constant_number_of_queries(tmp_path):
    app = make_app(tmp_path)
    settings = ServerSettings(block_size=2, sample_size=1)
    with db(app) as s:
        reviewer = users.create_user(s, "rev", PASSWORD, "reviewer")
        admin = users.create_user(s, "admin", PASSWORD, "admin")

        def batch(name, n):
            return batches.import_batch(s, name, rows=[
                {"external_id": f"{name}-{k}", "instruction": f"{name}问{k}", "response": f"答{k}"} for k in range(n)]).batch

        def finish(b, k, score=0):
            item = s.query(Item).filter_by(batch_id=b.id, external_id=f"{b.name}-{k}").one()
            workflow._finish(s, item, score=score, label=None, settings=settings)

        first = batch("a", 3)
        _, one_batch = _count_queries(s, lambda: batches.batch_summaries(s))
        for k in range(3):
            finish(first, k)  # a block of 2, one left over
        second = batch("b", 2)
        finish(second, 0)
        finish(second, 1)
        (blk,) = s.query(ReviewBlock).filter_by(batch_id=second.id).all()
        review.review_block(s, reviewer, blk.id, {i: True for i in blk.sample}, settings)
        third = batch("c", 4)
        for k in range(4):
            finish(third, k)
        for blk in s.query(ReviewBlock).filter_by(batch_id=third.id).order_by(ReviewBlock.id).all():
            review.review_block(s, reviewer, blk.id, {i: blk.id % 2 == 0 for i in blk.sample}, settings)
        batch("d", 1)
        review.close_batch(s, admin, first.id, settings)

        summaries, many_batches = _count_queries(s, lambda: batches.batch_summaries(s))
        assert many_batches == one_batch == 3
        by_name = {b["name"]: b for b in summaries}
        assert [b["name"] for b in summaries] == ["a", "b", "c", "d"]
        a, b, c, d = (by_name[n] for n in "abcd")
        assert a["status"] == {"done": 3} and a["review"] == {"pending": 2, "accepted": 0, "rejected": 0}
        assert a["unreviewed"] == 0 and a["accepted"] is False
        assert b["review"] == {"pending": 0, "accepted": 1, "rejected": 0} and b["accepted"] is True
        blocks_c = s.query(ReviewBlock).filter_by(batch_id=third.id).all()
        accepted_c = sum(x.status == "accepted" for x in blocks_c)
        assert c["review"] == {"pending": 0, "accepted": accepted_c, "rejected": 2 - accepted_c} and accepted_c == 1
        assert c["status"] == {"done": 2, "open": 2} and c["accepted"] is False and c["unreviewed"] == 0
        assert {k: d[k] for k in ("items", "status", "unreviewed", "accepted", "review")} == {
            "items": 1, "status": {"open": 1}, "unreviewed": 0, "accepted": False,
            "review": {"pending": 0, "accepted": 0, "rejected": 0}}
