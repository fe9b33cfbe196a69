"""Imports under attack, one table per finding: all or nothing (a failed Label Studio / Argilla
import writes nothing, and a retry brings everything in), a bad file answers 422 with its file:line
errors named by the uploaded file's name, and fields past the length limit are refused."""

import gzip
import json
import os

import pytest
from sqlalchemy import func, select

from celm.server.models import Assignment, Audit, Batch, Item, RatingRow
from tests.server.helpers import add_user, db, login, make_app
from tests.server.test_load import HAVE_PG

GOOD = {"id": "r1", "item_id": "i1", "prompt": "问题", "response": "回答", "model": "m"}


def _line(**changes) -> str:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


def _counts(app) -> dict[str, int]:
    with db(app) as s:
        counts = {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in (Batch, Item, RatingRow, Assignment)}
        counts["import audits"] = s.scalar(select(func.count()).select_from(Audit).where(Audit.action == "import"))
        return counts


NOTHING = {"batches": 0, "items": 0, "ratings": 0, "assignments": 0, "import audits": 0}


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    for name in ("ann1", "ann2"):
        add_user(app, name, "annotator", qualified=True)
    return app


def _label_studio(scores) -> bytes:
    tasks = [{"id": k, "data": {"id": f"t{k}", "instruction": f"问{k}", "response": f"答{k}"},
              "annotations": [{"completed_by": {"email": "ann1"},
                               "result": [{"from_name": "rating", "type": "choices", "value": {"choices": [score]}}]}]}
             for k, score in enumerate(scores, start=1)]
    return json.dumps(tasks, ensure_ascii=False).encode()


def _argilla(scores) -> bytes:
    records = [{"id": f"t{k}", "fields": {"instruction": f"问{k}", "response": f"答{k}"},
                "responses": [{"user_id": "ann1", "status": "submitted", "values": {"rating": {"value": score}}}]}
               for k, score in enumerate(scores, start=1)]
    return json.dumps(records, ensure_ascii=False).encode()


def _import(client, csrf, filename, data, fmt="celm", json_answer=True):
    headers = {"accept": "application/json"} if json_answer else {}
    return client.post("/admin/import", data={"csrf": csrf, "format": fmt, "name": "b"}, files={"file": (filename, data)},
                       headers=headers, follow_redirects=False)


@pytest.mark.parametrize("fmt,make", [("labelstudio", _label_studio), ("argilla", _argilla)])
def test_a_failed_annotated_import_writes_nothing_and_a_retry_brings_everything_in(app, fmt, make):
    admin, csrf = login(app, "admin")
    r = _import(admin, csrf, "export.json", make(["3", "9", "1"]), fmt)
    assert r.status_code == 422 and "export.json:2" in r.text, r.text  # task 2's "9" is no rank 0-6
    assert _counts(app) == NOTHING
    r = _import(admin, csrf, "export.json", make(["3", "2", "1"]), fmt)
    assert r.status_code == 200, r.text
    assert (r.json()["items"], r.json()["skipped"], r.json()["skipped_annotations"]) == (3, 0, 0)
    assert _counts(app) == {"batches": 1, "items": 3, "ratings": 3, "assignments": 3, "import audits": 1}


def test_an_import_that_fails_half_way_leaves_no_trace(app, monkeypatch):
    """A failure after the batch, its items and a first rating are written (a crash, a bug) rolls all of it back."""
    from celm.server import io, workflow

    calls = []
    real = workflow.submit_rating

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(workflow, "submit_rating", flaky)
    with db(app) as s, pytest.raises(RuntimeError, match="disk on fire"):
        io.import_upload(s, "export.json", _label_studio(["3", "2", "1"]), name="b", fmt="labelstudio")
    assert len(calls) == 2 and _counts(app) == NOTHING
    monkeypatch.setattr(workflow, "submit_rating", real)
    with db(app) as s:
        result = io.import_upload(s, "export.json", _label_studio(["3", "2", "1"]), name="b", fmt="labelstudio")
    assert (result.items, result.skipped_annotations) == (3, 0)
    assert _counts(app)["ratings"] == 3


BAD_UPLOADS = [
    # (uploaded name, bytes, format, what the 422 must say)
    ("mine.jsonl", (_line(id="a") + "\n{oops\n" + _line(id="b") + "\n").encode(), "celm", "mine.jsonl:2: invalid JSON"),
    ("mine.jsonl", _line(id="a").encode() + b"\n\xff\xfe\n", "celm", "mine.jsonl:2: bad UTF-8"),
    ("mine.txt", _line().encode(), "celm", "mine.txt: unknown format"),
    ("mine.jsonl", _line(scenario="no-such-scenario").encode(), "celm", "mine.jsonl:1: scenario"),
    ("mine.jsonl", (_line() + "\n" + _line() + "\n").encode(), "celm", "mine.jsonl:2: id: duplicate id"),
    ("mine.jsonl.gz", b"not gzip at all", "celm", "mine.jsonl.gz: invalid gzip"),
    ("mine.jsonl.gz", gzip.compress(b"{oops\n"), "celm", "mine.jsonl.gz:1: invalid JSON"),
    ("mine.parquet", b"not parquet", "celm", "mine.parquet: invalid Parquet"),
    ("mine.jsonl", _line().replace('"回答"', '"\\ud800"').encode(), "celm", "mine.jsonl:1: response"),
    ("ls.json", b"<html>not json</html>", "labelstudio", "ls.json:1: invalid JSON"),
    ("ls.json", b'{"not": "a list"}', "labelstudio", "ls.json:1: "),
    ("ls.json", b'[{"data": {"instruction": "q", "response": "\\ud800"}}]', "labelstudio", "ls.json:1: response"),
    ("ls.json", b'[{"data": {"instruction": "q"}}]', "labelstudio", "ls.json:1: "),
    ("ls.json", b'["just a string"]', "labelstudio", "ls.json:1: "),
    ("ar.json", b'[{"fields": {"instruction": "q", "response": "a"}}, 7]', "argilla", "ar.json:2: "),
    ("ls.json", b"\xff\xfe[]", "labelstudio", "ls.json:1: bad UTF-8"),
]


@pytest.mark.parametrize("filename,data,fmt,expected", BAD_UPLOADS, ids=[f"{b[3]}" for b in BAD_UPLOADS])
def test_a_bad_import_answers_422_with_errors_named_by_the_uploaded_file(app, filename, data, fmt, expected):
    admin, csrf = login(app, "admin")
    r = _import(admin, csrf, filename, data, fmt)
    assert r.status_code == 422, (r.status_code, r.text)
    body = r.json()
    assert any(e.startswith(expected) for e in body["errors"]), body
    assert "/tmp" not in r.text and "upload." not in r.text  # the temp file is nobody's business
    page = _import(admin, csrf, filename, data, fmt, json_answer=False)  # the page says the same
    assert page.status_code == 422 and expected.split(": ")[0] in page.text
    assert _counts(app) == NOTHING


def test_fields_past_the_length_limit_are_refused_with_their_line(tmp_path):
    app = make_app(tmp_path, max_field_chars=1000)
    add_user(app, "admin", "admin")
    admin, csrf = login(app, "admin")
    data = "\n".join([_line(id="a"), _line(id="b", response="长" * 1001), _line(id="c")]).encode()
    r = _import(admin, csrf, "big.jsonl", data)
    assert r.status_code == 422 and any(e.startswith("big.jsonl:2: response: ") and "1,000" in e for e in r.json()["errors"])
    ls = json.dumps([{"data": {"instruction": "问" * 1001, "response": "答"}}]).encode()
    r = _import(admin, csrf, "ls.json", ls, "labelstudio")
    assert r.status_code == 422 and r.json()["errors"][0].startswith("ls.json:1: instruction: ")
    assert _counts(app) == NOTHING
    # at the limit: taken
    r = _import(admin, csrf, "ok.jsonl", _line(response="长" * 1000).encode())
    assert r.status_code == 200 and r.json()["items"] == 1


def test_the_default_field_limit_refuses_a_10_mb_field(app):
    admin, csrf = login(app, "admin")
    r = _import(admin, csrf, "huge.jsonl", _line(response="x" * 10_000_000).encode())
    assert r.status_code == 422 and r.json()["errors"][0].startswith("huge.jsonl:1: response: ")
    assert _counts(app) == NOTHING


@pytest.mark.skipif(not HAVE_PG and not os.environ.get("CI"), reason="no PostgreSQL server binaries (apt install postgresql)")
def test_all_or_nothing_on_postgresql_too(monkeypatch):
    """The transaction's savepoints on PostgreSQL (SQLite's BEGIN IMMEDIATE path is the other tests'):
    a failure after the batch, its items and a rating rolls all of it back; the retry brings all in."""
    from celm.server import ServerSettings, create_app, io, workflow
    from celm.server.loadtest import Postgres

    pg = Postgres().start()
    try:
        app = create_app(ServerSettings(db_url=pg.url, secret_key="test-secret"))
        add_user(app, "ann1", "annotator", qualified=True)
        real = workflow.submit_rating
        calls = []

        def flaky(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("disk on fire")
            return real(*args, **kwargs)

        monkeypatch.setattr(workflow, "submit_rating", flaky)
        with db(app) as s, pytest.raises(RuntimeError, match="disk on fire"):
            io.import_upload(s, "export.json", _label_studio(["3", "2", "1"]), name="b", fmt="labelstudio")
        assert _counts(app) == NOTHING
        monkeypatch.setattr(workflow, "submit_rating", real)
        with db(app) as s:
            result = io.import_upload(s, "export.json", _label_studio(["3", "2", "1"]), name="b", fmt="labelstudio")
            assert result.batch.name == "b"  # usable in the caller's session after the transaction
        assert _counts(app) == {"batches": 1, "items": 3, "ratings": 3, "assignments": 3, "import audits": 1}
        app.state.engine.dispose()
    finally:
        pg.stop()
