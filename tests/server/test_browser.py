"""The whole path in real headless Chromium (Debian's package), driven by Playwright."""

import os
import shutil

import pytest

from celm.data.bundled import load_preference_pairs
from celm.data.io import read_records, write_records
from tests.server.helpers import PASSWORD, add_user, answer_key, make_app, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="no Chromium (apt install chromium)")


@pytest.fixture
def live(tmp_path):
    app = make_app(tmp_path, block_size=1000, sample_size=3)
    add_user(app, "admin", "admin")
    with serving(app) as url:
        yield app, url


def _login(browser, base, username, **ctx):
    page = browser.new_context(**ctx).new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_load_state()
    return page


def _rate_everything(page, base, score_for):
    page.goto(f"{base}/annotate")
    if page.locator("#claim-next").count():  # a page view claims nothing: the first item is claimed by a POST
        page.click("#claim-next")
        page.wait_for_load_state()
    while page.locator("#submit-rating").count():
        response = page.inner_text("#response")
        page.check(f"#score-{score_for(response)}")
        page.click("#submit-rating")
        page.wait_for_load_state()


def test_whole_path_in_chromium(live, tmp_path):
    from playwright.sync_api import sync_playwright

    app, base = live
    pairs = load_preference_pairs()[:2]
    batch = write_records(tmp_path / "batch.jsonl", pairs)
    chosen = {p.chosen for p in pairs}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        admin = _login(browser, base, "admin")
        assert "/dashboard" in admin.url
        for name, role in (("ann1", "annotator"), ("ann2", "annotator"), ("senior", "senior"), ("rev", "reviewer")):
            admin.goto(f"{base}/admin/users")
            admin.fill("#new-username", name)
            admin.fill("#new-password", PASSWORD)
            admin.select_option("#new-role", role)
            admin.click("#create-user")
            admin.wait_for_load_state()
        assert admin.locator(".uname").count() == 5
        admin.goto(f"{base}/admin/import")
        admin.fill("#batch-name", "browser-batch")
        admin.set_input_files("#batch-file", str(batch))
        admin.click("#import")
        admin.wait_for_load_state()
        assert "browser-batch" in admin.inner_text("body")

        keys = answer_key(app)
        annotators = {}
        for name in ("ann1", "ann2"):
            page = _login(browser, base, name, viewport={"width": 390, "height": 844})  # a phone
            assert "/test" in page.url
            drawn = [int(name[1:]) for name in page.eval_on_selector_all("select.test-answer", "els => els.map(e => e.name)")]
            assert len(drawn) == 40  # a draw from the larger bank
            for qid in drawn:
                page.select_option(f"select[name=q{qid}]", str(keys[qid]))
            page.click("#submit-test")
            page.wait_for_load_state()
            assert "40/40" in page.inner_text("#message")
            annotators[name] = page
        _rate_everything(annotators["ann1"], base, lambda text: 0 if text in chosen else 6)
        disputed = pairs[0].rejected
        _rate_everything(annotators["ann2"], base, lambda text: 0 if text in chosen else (2 if text == disputed else 6))
        phone = annotators["ann2"]
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scrolling
        assert "暂时没有待标注的条目" in phone.inner_text("#empty")

        senior = _login(browser, base, "senior")
        assert disputed in senior.inner_text("body")
        assert sorted(senior.locator(".given").all_inner_texts()) == ["2", "6"]
        senior.check("#score-6")
        senior.click("#submit-adjudication")
        senior.wait_for_load_state()
        assert senior.locator("#empty").count() == 1

        admin.goto(f"{base}/admin/import")
        admin.click(".close-batch")
        admin.wait_for_load_state()
        rev = _login(browser, base, "rev")
        rev.click(".block-link")
        rev.wait_for_load_state()
        assert rev.locator(".verdict-ok").count() == 3
        rev.click("#submit-review")
        rev.wait_for_load_state()
        assert rev.locator(".status").first.inner_text() in ("已通过", "accepted")

        admin.goto(f"{base}/dashboard")
        assert admin.inner_text("#raw-agreement") == "75.0%" and admin.inner_text("#senior-match") == "100.0%"
        assert admin.inner_text("#acceptance") == "100.0%"
        for kind in ("sft", "pairs"):
            body = admin.request.get(f"{base}/export/1/{kind}").body()
            (tmp_path / f"{kind}.jsonl").write_bytes(body)
        # the shared rule (celm.data.pairing) keeps one SFT example per distinct (instruction, response):
        # both pairs share their chosen answer, so there is one
        examples = read_records(tmp_path / "sft.jsonl")
        assert sorted((e.instruction, e.output) for e in examples) == sorted({(p.instruction, p.chosen) for p in pairs})
        assert len(examples) == 1
        out_pairs = read_records(tmp_path / "pairs.jsonl")
        assert {(p.chosen, p.rejected) for p in out_pairs} == {(p.chosen, p.rejected) for p in pairs}

        # the same file again is skipped, and says so; the audit page lists every rating
        admin.goto(f"{base}/admin/import")
        admin.set_input_files("#batch-file", str(batch))
        admin.click("#import")
        admin.wait_for_load_state()
        assert admin.inner_text("#imported-count") == "0" and admin.inner_text("#skipped-count") == "4"
        admin.goto(f"{base}/admin/audit")
        admin.select_option("#audit-action", "rating")
        admin.click("#audit-filter")
        admin.wait_for_load_state()
        assert admin.locator(".audit-row").count() == 8 and "action=rating" in admin.url

        admin.click("text=English")
        admin.wait_for_load_state()
        assert "Dashboard" in admin.inner_text("header")
        admin.click("#logout")
        admin.wait_for_load_state()
        assert "/login" in admin.url
        browser.close()


def test_a_rating_made_with_the_keyboard_alone(live, tmp_path):
    """Issue 32: keys choose, Enter submits, S skips, ? shows the keys (static/keys.js under the CSP)."""
    from playwright.sync_api import sync_playwright

    from celm.server import batches
    from celm.server.models import Audit, RatingRow
    from tests.server.helpers import db

    app, base = live
    add_user(app, "ann", "annotator", qualified=True)
    with db(app) as s:
        batches.import_batch(s, "keys", task="rating", rows=[
            {"external_id": f"k{n}", "instruction": f"问题{n}", "response": f"回答{n}"} for n in range(3)])
    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = _login(browser, base, "ann")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # a CSP refusal shows here
        page.goto(f"{base}/annotate")
        page.keyboard.press("Enter")  # claims the first item
        page.wait_for_selector("#rating-form")
        assert "已完成 0 / 剩余 3" in page.inner_text("#team-progress")
        assert page.locator("#keys-help").is_hidden()
        page.keyboard.press("?")
        assert page.locator("#keys-help").is_visible()
        page.keyboard.press("?")
        assert page.locator("#keys-help").is_hidden()
        first = page.inner_text("#response")
        page.keyboard.press("4")
        assert page.is_checked("#score-4")
        page.keyboard.press("2")
        assert page.is_checked("#score-2") and not page.is_checked("#score-4")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("#rating-form")
        assert page.inner_text("#my-progress") == "已完成 1"
        second = page.inner_text("#response")
        assert second != first
        with page.expect_navigation():
            page.keyboard.press("s")  # skip: another item comes
        page.wait_for_selector("#rating-form")
        assert page.inner_text("#response") not in (first, second)
        browser.close()
    assert not errors, errors
    with db(app) as s:
        ratings = [(r.user_id, r.score) for r in s.query(RatingRow)]
        assert len(ratings) == 1 and ratings[0][1] == 2
        assert [a.action for a in s.query(Audit).filter(Audit.action.in_(("rating", "skip")))] == ["rating", "skip"]
