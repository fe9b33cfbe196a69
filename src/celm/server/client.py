"""A client for a running ``celm serve``: what a script (or the iterative loop) does over HTTP.

It logs in like a browser (the login form's CSRF token, then the session cookie) and uses the JSON
API the app offers every role: an admin imports a batch, watches it, closes it and exports it; an
annotator takes the competence test and rates items one by one; a senior adjudicates disagreements;
a reviewer accepts or rejects the sampled review blocks.

    admin = AppClient("http://127.0.0.1:8000").login("admin", PASSWORD)
    batch = admin.import_batch("responses.jsonl", name="round 1", task="rating")
    ann = AppClient(URL).login("ann1", PASSWORD)
    while (item := ann.next_item()) is not None:
        ann.rate(item["id"], score=0)
    senior = AppClient(URL).login("boss", PASSWORD)
    for item in senior.adjudication_queue():
        senior.adjudicate(item["id"], score=1)
    admin.close_batch(batch["batch_id"])  # the finished items not yet in a block go to review
    rev = AppClient(URL).login("rev", PASSWORD)
    for block in rev.review_queue():
        rev.review(block["id"], {i["id"]: True for i in block["sample"]})
    if admin.batch(batch["batch_id"])["accepted"]:
        final = admin.export(batch["batch_id"], "final")  # one Rating (role "final") per item
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class AppError(RuntimeError):
    """The app refused a request; the message is the app's own."""


class AppClient:
    def __init__(self, url: str, *, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout, follow_redirects=False)
        self.csrf = ""
        self.user: dict[str, Any] = {}

    def __enter__(self) -> "AppClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- plumbing -----------------------------------------------------------------------------------
    def _check(self, r: httpx.Response) -> Any:
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text[:300]
            raise AppError(f"{r.request.method} {r.request.url.path}: {r.status_code} {detail}")
        return r.json() if "json" in r.headers.get("content-type", "") else r.content

    def _get(self, path: str, **params) -> Any:
        return self._check(self.http.get(path, params=params or None))

    def _post(self, path: str, body: dict) -> Any:
        return self._check(self.http.post(path, json=body, headers={"x-csrf-token": self.csrf}))

    # -- every role ---------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> "AppClient":
        page = self.http.get("/login")
        m = _CSRF.search(page.text)
        if not m:
            raise AppError(f"{self.url}/login: no login form (is this a celm server?)")
        r = self.http.post("/login", data={"username": username, "password": password, "csrf": m.group(1)})
        if r.status_code != 303:
            raise AppError(f"login as {username!r} failed ({r.status_code})")
        self.user = self._get("/api/me")
        self.csrf = self.user["csrf"]
        return self

    # -- admin --------------------------------------------------------------------------------------
    def import_batch(self, path: str | Path, *, name: str, task: str = "rating", new_round_of: int | None = None) -> dict:
        """Upload a celm record file (Responses, judgements, ...) as a batch; returns {batch_id, items, skipped}.

        Items already imported are skipped (``batch_id`` is None when all were); ``new_round_of`` an
        earlier batch's id imports them again, to be rated afresh."""
        path = Path(path)
        data = {"csrf": self.csrf, "name": name, "task": task, "format": "celm"}
        if new_round_of is not None:
            data["new_round_of"] = str(new_round_of)
        with path.open("rb") as fh:
            r = self.http.post("/admin/import", data=data, files={"file": (path.name, fh)}, headers={"accept": "application/json"})
        return self._check(r)

    def audit(self, *, since: str | None = None, action: str | None = None, user: str | None = None,
              before: int | None = None, limit: int = 100) -> dict:
        """One page of the audit trail, newest first: {entries, next_before} (pass next_before as before)."""
        params = {"since": since, "action": action, "user": user, "before": before, "limit": limit}
        return self._get("/api/audit", **{k: v for k, v in params.items() if v is not None})

    def batches(self) -> list[dict]:
        """Every batch: {id, name, task, source, round_of, items, status: {status: n}, review: {pending,
        accepted, rejected} (blocks), unreviewed (done items in no block yet), accepted (every item done and
        in an accepted block)}."""
        return self._get("/api/batches")["batches"]

    def batch(self, batch_id: int) -> dict:
        for b in self.batches():
            if b["id"] == batch_id:
                return b
        raise AppError(f"no batch {batch_id}")

    def close_batch(self, batch_id: int) -> list[int]:
        """Send the batch's finished items not yet in a review block to review, however few; the new blocks' ids."""
        return self._post(f"/api/batches/{batch_id}/close", {})["blocks"]

    def export(self, batch_id: int, kind: str) -> bytes:
        """A batch's export (sft, pairs, ratings, final, labels, labelstudio, argilla) as the file's bytes."""
        r = self.http.get(f"/export/{batch_id}/{kind}")
        if r.status_code != 200:
            raise AppError(f"export {kind} of batch {batch_id}: {r.status_code}")
        return r.content

    # -- annotator ----------------------------------------------------------------------------------
    def test_questions(self, task: str = "rating") -> list[dict]:
        """The questions drawn for this attempt at the rating test (ranks 0-6) or the label test (four
        verdicts), without the key; the same until the attempt is submitted."""
        return self._get("/api/test", task=task)["questions"]

    def take_test(self, answers: dict[int, int | str], task: str = "rating") -> dict:
        """Answer a test: ``{question id: rank}`` (rating) or ``{question id: verdict}`` (label). Returns
        correct / total / passed, the feedback by part of the guideline, attempts_left and next_attempt_at."""
        values = {str(k): int(v) if task == "rating" else str(v) for k, v in answers.items()}
        result = self._post("/api/test", {"task": task, "answers": values})
        self.user = self._get("/api/me")
        return result

    def next_item(self) -> dict | None:
        """Claim the next item to rate (the one already held, if any); None when none is left."""
        return self._post("/api/next", {})["item"]

    def rate(self, item_id: int, *, score: int | None = None, label: str | None = None, comment: str = "") -> dict:
        return self._post("/api/ratings", {"item_id": item_id, "score": score, "label": label, "comment": comment})

    # -- senior -------------------------------------------------------------------------------------
    def adjudication_queue(self) -> list[dict]:
        return self._get("/api/adjudication")["items"]

    def adjudicate(self, item_id: int, *, score: int | None = None, label: str | None = None, comment: str = "") -> dict:
        return self._post("/api/adjudications", {"item_id": item_id, "score": score, "label": label, "comment": comment})

    # -- reviewer -----------------------------------------------------------------------------------
    def review_queue(self) -> list[dict]:
        """The blocks awaiting review: {id, batch_id, size, sample: [items with final_score and final_label]}."""
        return self._get("/api/review")["blocks"]

    def review(self, block_id: int, verdicts: dict[int, bool]) -> dict:
        """A verdict (correct?) on every sampled item of a block; returns {id, status, accuracy}."""
        return self._post(f"/api/review/{block_id}", {"verdicts": {str(k): bool(v) for k, v in verdicts.items()}})
