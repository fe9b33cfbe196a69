"""The HTML report in a real headless Chromium (Debian's package) driven by Playwright."""

import os
import shutil

import pytest

from celm.evaluate.run import EvalConfig, run_eval

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (.ci/run installs it)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    pytest.importorskip("playwright")
    tmp = tmp_path_factory.mktemp("browser")
    script = tmp / "s.yaml"
    script.write_text("赌博: 抱歉，我无法提供帮助。\n'*': 好的，步骤如下：首先……\n", encoding="utf-8")
    run = run_eval(EvalConfig(model=f"scripted:{script}", judge="keyword", attacks_per_scenario=2, benign_per_scenario=1),
                   tmp / "run", progress=False, log=lambda *_: None)
    return run.folder / "report.html"


def test_report_renders_and_filter_works(report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
        page.goto(report.as_uri())
        assert "celm" in page.title()
        rows = page.locator(".scenario-table tbody tr")
        assert rows.count() == 17
        assert page.get_by_text("Acc").first.is_visible()
        page.select_option("#scenario-filter", "gambling")
        visible = [r for r in rows.all() if r.is_visible()]
        assert len(visible) == 1 and visible[0].get_attribute("data-scenario") == "gambling"
        assert page.locator("#filter-count").inner_text() == "(1)"
        page.select_option("#scenario-filter", "")
        assert len([r for r in rows.all() if r.is_visible()]) == 17
        page.screenshot(path=str(report.with_suffix(".png")), full_page=True)
        browser.close()
    assert errors == [] and requests == []  # no console errors, no network
