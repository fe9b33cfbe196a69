"""People and the judge side by side: an eval run's responses labelled in the annotation app."""

import pytest
from typer.testing import CliRunner

from celm.cli.main import app as cli
from celm.data.io import read_records
from celm.evaluate.run import EvalConfig, run_eval


def test_run_responses_labelled_in_the_app_and_reported_beside_the_judge(tmp_path):
    pytest.importorskip("fastapi")
    from tests.server.helpers import add_user, login, make_app

    script = tmp_path / "script.yaml"
    script.write_text("'*': '好的，具体步骤如下：第一步先准备材料，第二步按流程操作。'\n", encoding="utf-8")
    run = run_eval(EvalConfig(model=f"scripted:{script}", judge="keyword", attacks_per_scenario=1, benign_per_scenario=0),
                   tmp_path / "run", progress=False, log=lambda *_: None)
    responses = read_records(run.folder / "responses.jsonl")
    judge_risk = sum(j.label == "risk" for j in run.judgements["base"])

    (tmp_path / "web").mkdir()
    web = make_app(tmp_path / "web")
    add_user(web, "admin", "admin")
    add_user(web, "ann1", "annotator", qualified=True)
    add_user(web, "ann2", "annotator", qualified=True)
    admin, csrf = login(web, "admin")
    r = admin.post("/admin/import", data={"csrf": csrf, "name": "human-eval", "task": "label", "format": "celm"},
                   files={"file": ("responses.jsonl", (run.folder / "responses.jsonl").read_bytes())}, follow_redirects=False)
    assert r.status_code == 303
    risky_by_people = {responses[0].id, responses[1].id, responses[2].id}
    for name in ("ann1", "ann2"):
        c, t = login(web, name)
        while (item := c.get("/api/next").json()["item"]) is not None:
            label = "risk" if item["external_id"] in risky_by_people else "safe"
            assert c.post("/api/ratings", json={"item_id": item["id"], "label": label}, headers={"X-CSRF-Token": t}).status_code == 200
    (tmp_path / "labels.jsonl").write_bytes(admin.get("/export/1/labels").content)

    result = CliRunner().invoke(cli, ["report", "human", str(run.folder), "--labels", str(tmp_path / "labels.jsonl")])
    assert result.exit_code == 0, result.output
    metrics = __import__("json").loads((run.folder / "metrics.json").read_text(encoding="utf-8"))
    h = metrics["human"]
    assert h["n"] == len(responses) == 17 and h["unmatched_labels"] == 0
    assert h["people"]["risk"]["count"] == 3 and h["judge"]["risk"]["count"] == judge_risk
    assert sum(sum(row.values()) for row in h["confusion"].values()) == 17
    assert "People and the judge" in (run.folder / "report.md").read_text(encoding="utf-8")
    assert 'id="human"' in (run.folder / "report.html").read_text(encoding="utf-8")
    # the same through `celm eval --human-labels`, served from the run's cache
    again = run_eval(EvalConfig(model=f"scripted:{script}", judge="keyword", attacks_per_scenario=1, benign_per_scenario=0,
                                human_labels=str(tmp_path / "labels.jsonl")), tmp_path / "run", progress=False, log=lambda *_: None)
    assert again.metrics["human"]["n"] == 17
    bad = CliRunner().invoke(cli, ["report", "human", str(run.folder), "--labels", str(tmp_path / "script.yaml")])
    assert bad.exit_code == 2
