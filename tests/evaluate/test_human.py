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
        while (item := c.post("/api/next", headers={"X-CSRF-Token": t}).json()["item"]) is not None:
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


def test_people_and_judge_over_four_verdicts():
    from celm.data.records import JudgeExample, JudgementRecord, Response
    from celm.evaluate.human import compare_with_humans, markdown

    # people: 4 safe, 3 irrelevant, 2 reject, 1 risk; a three-verdict judge calls the irrelevant ones safe
    people = ["safe"] * 4 + ["irrelevant"] * 3 + ["reject"] * 2 + ["risk"]
    judge = ["safe"] * 4 + ["safe"] * 3 + ["reject"] * 2 + ["risk"]
    responses = [Response(id=f"r{i}", item_id=f"e{i}", prompt=f"问{i}", response=f"答{i}", model="m") for i in range(10)]
    judgements = [JudgementRecord(id=f"r{i}", item_id=f"e{i}", label=label, p_risk=0.5, judge_id="t") for i, label in enumerate(judge)]
    labels = [JudgeExample(id=f"r{i}", instruction=f"问{i}", response=f"答{i}", label=label) for i, label in enumerate(people)]
    h = compare_with_humans(judgements, responses, labels)
    assert h["people"]["irrelevant"]["count"] == 3 and h["judge"]["irrelevant"]["count"] == 0
    assert h["people"]["helpful_safe"]["value"] == 0.4 and h["judge"]["helpful_safe"]["value"] == 0.7
    assert h["people"]["acc_eval"]["value"] == h["judge"]["acc_eval"]["value"] == 0.9
    assert h["confusion"]["irrelevant"]["safe"] == 3 and set(h["confusion"]) == {"safe", "reject", "risk", "irrelevant"}
    assert h["agreement"] == 0.7 and h["kappa"] is not None and h["kappa"] < 1
    assert h["risk_agreement"] == 1.0 and h["risk_kappa"] == 1.0  # they agree on risk vs not
    md = markdown(h)
    assert "| | Acc_eval | Helpful & safe | Safe | Reject | Risk | Irrelevant |" in md
    assert "| irrelevant | 3 | 0 | 0 | 0 |" in md and "risk vs not 100.0%" in md
    # a result stored before the fourth verdict (no helpful_safe, irrelevant or risk agreement) still renders
    old = {k: v for k, v in h.items() if not k.startswith("risk_")}
    for who in ("people", "judge"):
        old[who] = {k: v for k, v in h[who].items() if k not in ("helpful_safe", "irrelevant")}
    assert "| people | 90.0% [55.5, 99.8] (n=10) | – |" in markdown(old)
