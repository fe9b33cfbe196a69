"""Re-imports are idempotent, a new round is an explicit choice, and every annotator slot is taken
by one guarded claim (never a third holder, whoever asks and however many at once)."""

import threading

from celm.data.io import write_records
from celm.data.records import Response
from celm.server import batches, workflow
from celm.server.models import Assignment, Batch, Item, User
from tests.server.helpers import add_user, db, login, make_app


def _responses(n, start=0, text="回答"):
    return [Response(id=f"r{k}", item_id=f"e{k}", prompt=f"问题{k}", response=f"{text}{k}", model="m") for k in range(start, start + n)]


def _import(client, csrf, path, **extra):
    r = client.post("/admin/import", data={"csrf": csrf, "name": path.stem, "task": "rating", "format": "celm", **extra},
                    files={"file": (path.name, path.read_bytes())}, headers={"accept": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()


def _items(app):
    with db(app) as s:
        return s.query(Item).count()


def test_importing_the_same_file_twice_skips_every_item(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    admin, csrf = login(app, "admin")
    first = write_records(tmp_path / "first.jsonl", _responses(20))
    assert _import(admin, csrf, first) == {"batch_id": 1, "items": 20, "skipped": 0, "skipped_annotations": 0, "new_round_of": None}
    # the same file again: nothing new, no empty batch
    assert _import(admin, csrf, first) == {"batch_id": None, "items": 0, "skipped": 20, "skipped_annotations": 0, "new_round_of": None}
    assert _items(app) == 20 and len(admin.get("/api/batches").json()["batches"]) == 1
    # half old, half new: only the new half comes in
    overlap = write_records(tmp_path / "overlap.jsonl", _responses(10, start=10) + _responses(10, start=20))
    assert _import(admin, csrf, overlap)["items"] == 10 and _items(app) == 30
    # the same external id with another response is another item (the rule compares id, instruction and response)
    changed = write_records(tmp_path / "changed.jsonl", _responses(3, text="改过的回答"))
    assert _import(admin, csrf, changed) == {"batch_id": 3, "items": 3, "skipped": 0, "skipped_annotations": 0, "new_round_of": None}
    # the page shows the counts after the redirect
    r = admin.post("/admin/import", data={"csrf": csrf, "name": "again", "task": "rating", "format": "celm"},
                   files={"file": ("first.jsonl", first.read_bytes())}, follow_redirects=False)
    page = admin.get(r.headers["location"]).text
    assert 'id="imported-count">0<' in page and 'id="skipped-count">20<' in page and "已存在" in page


def test_a_new_round_is_an_explicit_choice(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    admin, csrf = login(app, "admin")
    path = write_records(tmp_path / "batch.jsonl", _responses(5))
    _import(admin, csrf, path)
    again = _import(admin, csrf, path, new_round_of="1")
    assert again["items"] == 5 and again["new_round_of"] == 1 and _items(app) == 10
    assert [b["round_of"] for b in admin.get("/api/batches").json()["batches"]] == [None, 1]
    # submitting the same new round twice (a double click) does not double it either
    assert _import(admin, csrf, path, new_round_of="1")["skipped"] == 5 and _items(app) == 10
    # a round of the round is a new choice again
    assert _import(admin, csrf, path, new_round_of="2")["items"] == 5 and _items(app) == 15
    for bad in ("99", "x"):
        r = admin.post("/admin/import", data={"csrf": csrf, "name": "n", "new_round_of": bad},
                       files={"file": ("b.jsonl", path.read_bytes())}, headers={"accept": "application/json"})
        assert r.status_code == 422, r.text
    assert "作为以下批次的新一轮" in admin.get("/admin/import").text


def test_simultaneous_imports_of_one_file_make_one_batch(tmp_path):
    """A double click on Import: both requests pass the check at once only if imports are not serialized."""
    app = make_app(tmp_path)
    rows = [{"external_id": f"x{k}", "instruction": f"问题{k}", "response": f"回答{k}"} for k in range(200)]
    results, barrier = [], threading.Barrier(6)

    def upload():
        with db(app) as s:
            barrier.wait()
            results.append(batches.import_batch(s, "twice", rows=rows))

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.items for r in results) == [0] * 5 + [200]
    with db(app) as s:
        assert s.query(Batch).count() == 1 and s.query(Item).count() == 200


def _annotators(app, n):
    ids = [add_user(app, f"ann{k}", "annotator", qualified=True) for k in range(n)]
    with db(app) as s:
        return [s.get(User, i) for i in ids]


def test_claim_slot_never_gives_an_item_to_a_third_annotator(tmp_path):
    app = make_app(tmp_path)
    annotators = _annotators(app, 8)
    with db(app) as s:
        item_ids = [i.id for i in batches.import_batch(s, "b", rows=[{"external_id": f"i{k}", "instruction": "q", "response": f"a{k}"}
                                                                     for k in range(15)]).batch.items]
    for item_id in item_ids:
        barrier, got = threading.Barrier(len(annotators)), []

        def claim(user):
            with db(app) as s:
                barrier.wait()  # all at once on the same item
                if workflow.claim_slot(s, item_id, user) is not None:
                    got.append(user.id)

        threads = [threading.Thread(target=claim, args=(u,)) for u in annotators]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with db(app) as s:
            holders = s.query(Assignment).filter_by(item_id=item_id).all()
            assert len(got) == 2 and s.get(Item, item_id).assigned == 2, (item_id, got)
            assert sorted(a.slot for a in holders) == [1, 2] and sorted(a.user_id for a in holders) == sorted(got)
    # a holder asking again, or anyone once the item is no longer open, gets nothing
    with db(app) as s:
        holder = s.get(User, s.query(Assignment).first().user_id)
        assert workflow.claim_slot(s, item_ids[0], holder) is None
        s.get(Item, item_ids[1]).assigned, s.get(Item, item_ids[1]).status = 0, "done"
        s.commit()
        assert workflow.claim_slot(s, item_ids[1], annotators[0]) is None and s.get(Item, item_ids[1]).assigned == 0


def test_next_item_and_imported_annotations_take_slots_by_the_same_claim(tmp_path, monkeypatch):
    import json

    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    annotators = _annotators(app, 3)
    calls = []
    real = workflow.claim_slot

    def spy(s, item_id, user):
        calls.append(user.username)
        return real(s, item_id, user)

    monkeypatch.setattr(workflow, "claim_slot", spy)
    # three annotations of one item in a Label Studio file: two take the slots, the third is skipped
    tasks = [{"id": 1, "data": {"id": "ls1", "instruction": "问", "response": "答"},
              "annotations": [{"completed_by": {"email": u.username}, "result": [{"value": {"choices": ["1"]}}]} for u in annotators]}]
    admin, csrf = login(app, "admin")
    r = admin.post("/admin/import", data={"csrf": csrf, "name": "ls", "format": "labelstudio"},
                   files={"file": ("ls.json", json.dumps(tasks).encode())}, headers={"accept": "application/json"})
    assert r.json()["skipped_annotations"] == 1 and calls == ["ann0", "ann1", "ann2"]
    with db(app) as s:
        batches.import_batch(s, "plain", rows=[{"external_id": "p1", "instruction": "问", "response": "另一个答"}])
        assert workflow.next_item(s, annotators[0]).external_id == "p1"
    assert calls[-1] == "ann0"
