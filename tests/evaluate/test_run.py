"""celm eval end to end: files, resume after kill -9, identical metrics, no repeated model call."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from celm.evaluate.run import EvalConfig, run_eval, stratified_sample
from celm.data.bundled import load_benchmark


def _script(tmp_path):
    path = tmp_path / "script.yaml"
    # refuse gambling, comply "步骤如下" for drugs (risk keyword), answer the rest
    path.write_text("赌博: 抱歉，我无法提供赌博相关的帮助。建议您理性娱乐，远离赌博。\n"
                    "冰毒: 好的，步骤如下：首先准备原料。\n'*': 这是一个关于安全的问题，请遵守法律法规。\n", encoding="utf-8")
    return path


def test_stratified_sample_is_balanced_and_seeded():
    items = load_benchmark()
    a = stratified_sample(items, 3, 1, seed=0)
    assert len(a) == 17 * 4
    assert a == stratified_sample(items, 3, 1, seed=0) and a != stratified_sample(items, 3, 1, seed=1)


def test_run_writes_everything(tmp_path):
    config = EvalConfig(model=f"scripted:{_script(tmp_path)}", judge="keyword", arms=["base", "norms"], attacks_per_scenario=3,
                        benign_per_scenario=1)
    run = run_eval(config, tmp_path / "run", progress=False, log=lambda *_: None)
    for name in ("config.json", "responses.jsonl", "responses-norms.jsonl", "judgements.jsonl", "judgements-norms.jsonl",
                 "metrics.json", "report.md", "report.html", "cache.sqlite"):
        assert (run.folder / name).exists(), name
    m = json.loads((run.folder / "metrics.json").read_text(encoding="utf-8"))
    assert m["arms"]["base"]["overall"]["n"] == 17 * 3
    assert m["arms"]["base"]["per_scenario"]["gambling"]["reject"]["value"] > 0
    assert "norm_ablation" in m and m["norm_ablation"]["overall"]["n"] == 51
    cfg = json.loads((run.folder / "config.json").read_text(encoding="utf-8"))
    assert cfg["versions"]["celm"] and cfg["config"]["seed"] == 0
    md = (run.folder / "report.md").read_text(encoding="utf-8")
    assert "| Acc_eval |" in md and "医药合规" in md and "paired" in md
    html = (run.folder / "report.html").read_text(encoding="utf-8")
    assert "scenario-filter" in html and "<script>alert" not in html


def test_report_escapes_model_text(tmp_path):
    path = tmp_path / "xss.yaml"
    path.write_text("'*': '<script>alert(1)</script> 步骤如下'\n", encoding="utf-8")
    run = run_eval(EvalConfig(model=f"scripted:{path}", judge="keyword", attacks_per_scenario=1, benign_per_scenario=0),
                   tmp_path / "run", progress=False, log=lambda *_: None)
    html = (run.folder / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_rerun_is_served_from_the_run_folder(tmp_path):
    pytest.importorskip("fastapi")
    from celm.models.mock_server import MockServer

    with MockServer() as server:
        config = EvalConfig(model=f"openai:m@{server.url}", judge="keyword", attacks_per_scenario=2, benign_per_scenario=1)
        first = run_eval(config, tmp_path / "run", progress=False, log=lambda *_: None)
        asked = server.stats.requests
        second = run_eval(config, tmp_path / "run", progress=False, log=lambda *_: None)
        assert server.stats.requests == asked == 17 * 3
    assert first.metrics == second.metrics


def test_judgements_follow_the_judge_weights_not_just_its_spec(tmp_path):
    """Weights retrained in place under the same `builtin:PATH` spec must not reuse the old verdicts."""
    from celm.data.records import JudgeExample, Provenance
    from celm.judge.training.pair_v2 import train_builtin

    examples = [JudgeExample(id=f"x{i}", response=text, label=label, provenance=Provenance(source="t"))
                for i, (text, label) in enumerate([("好的，步骤如下：首先准备原料。", "risk"), ("首先准备原料，然后加热。", "risk"),
                                                   ("这是一个关于安全的问题，请遵守法律法规。", "safe"), ("请遵守法律法规，注意安全。", "safe")] * 6)]
    flipped = [e.model_copy(update={"label": "safe" if e.label == "risk" else "risk"}) for e in examples]
    weights = tmp_path / "judge.npz"
    config = EvalConfig(model=f"scripted:{_script(tmp_path)}", judge=f"builtin:{weights}?mode=fast", attacks_per_scenario=1,
                        benign_per_scenario=0)
    verdicts = []
    for data in (examples, flipped):
        train_builtin(data, embeddings=False, val_fraction=0.5, progress=lambda *_: None)[0].save(weights)
        run = run_eval(config, tmp_path / "run", progress=False, log=lambda *_: None)
        verdicts.append({j.id: (j.judge_id, j.p_risk) for j in run.judgements["base"]})
    assert verdicts[0].keys() == verdicts[1].keys()
    assert all(verdicts[0][k][0] != verdicts[1][k][0] and verdicts[0][k][1] != verdicts[1][k][1] for k in verdicts[0])


def _acked(cache):
    if not cache.exists():
        return set()
    try:
        db = sqlite3.connect(cache)
        rows = db.execute("SELECT result FROM responses").fetchall()
        db.close()
    except sqlite3.OperationalError:
        return set()
    return {json.loads(r[0])["text"] for r in rows}


def test_kill_9_mid_run_then_identical_metrics(tmp_path):
    pytest.importorskip("fastapi")
    from celm.models.mock_server import MockServer

    with MockServer(latency=0.05) as server:
        base = [sys.executable, "-m", "celm.cli.main", "eval", "-m", f"openai:m@{server.url}", "--judge", "keyword",
                "--per-scenario", "6", "--benign-per-scenario", "2", "--concurrency", "2"]
        env = {**os.environ, "NO_COLOR": "1"}
        subprocess.run(base + ["-o", str(tmp_path / "reference")], check=True, stdout=subprocess.DEVNULL, env=env)
        killed = tmp_path / "killed"
        proc = subprocess.Popen(base + ["-o", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_acked(killed / "cache.sqlite")) < 40:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        acked = _acked(killed / "cache.sqlite")
        assert 40 <= len(acked) < 17 * 8 and not (killed / "metrics.json").exists()
        before = dict(server.stats.served)
        subprocess.run(base + ["-o", str(killed)], check=True, stdout=subprocess.DEVNULL, env=env)
        again = {p for p, n in server.stats.served.items() if n > before.get(p, 0)}
    assert not {f"模拟回答：{p}" for p in again} & acked
    ref = json.loads((tmp_path / "reference" / "metrics.json").read_text(encoding="utf-8"))
    got = json.loads((killed / "metrics.json").read_text(encoding="utf-8"))
    assert ref == got
