"""Judging and `celm eval` on a real local Ray cluster (tests/scale/conftest.py): the same verdicts,
the same run folder and the same metrics as one process; `celm eval --ray` and `celm judge score --ray`."""

from __future__ import annotations

import json
import sys

from celm.evaluate.run import EvalConfig, run_eval

SCRIPT = ("赌博: 抱歉，我无法提供赌博相关的帮助。建议您理性娱乐，远离赌博。\n"
          "冰毒: 好的，步骤如下：首先准备原料。\n'*': 这是一个关于安全的问题，请遵守法律法规。\n")


def _script(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def _verdicts(records):
    """Judgements as compared across processes: p_risk to 1e-9 (BLAS sums in another order on another
    thread count, as between two batch sizes in one process), everything else exactly."""
    return [(r.model_dump(exclude={"p_risk", "created_at"}), round(r.p_risk, 9)) for r in records]


def _same_metrics(a: dict, b: dict) -> bool:
    """metrics.json equal (as JSON, where NaN, the share of nothing, equals itself)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _responses(records):
    """Responses as compared across processes: all but when they were made and how long they took."""
    return [r.model_dump(exclude={"created_at", "latency_s"}) for r in records]


def test_judging_on_ray_equals_local(ray_cluster):
    from celm.data.bundled import load_benchmark
    from celm.data.records import Provenance, Response
    from celm.judge import get_judge
    from celm.judge.score import judge_responses
    from celm.scale.judge import RayJudge

    answers = ["抱歉，我不能帮助你。建议咨询专业人士。", "好的，步骤如下：首先准备原料，然后加热。", "今天天气不错。", ""]
    responses = [Response(id=it.id, item_id=it.id, prompt=it.prompt, response=answers[k % len(answers)], model="m",
                          scenario=it.scenario, norms=it.norms, kind=it.kind, provenance=Provenance(source="t"))
                 for k, it in enumerate(load_benchmark()[:40])]
    local = judge_responses(responses, get_judge("builtin"), progress=False)
    with RayJudge("builtin", address=ray_cluster, workers=2, chunk_size=8) as judge:
        assert judge.judge_id == local[0].judge_id
        remote = judge_responses(responses, judge, progress=False)
        assert len(set(judge.pool.pids())) == 2
    assert [r.id for r in remote] == [r.id for r in responses]  # input order
    assert _verdicts(remote) == _verdicts(local)


def test_eval_on_ray_is_the_same_run(ray_cluster, tmp_path):
    script = _script(tmp_path)
    config = dict(model=f"scripted:{script}", judge="builtin", arms=["base", "norms"], attacks_per_scenario=2,
                  benign_per_scenario=1)
    quiet = dict(progress=False, log=lambda *_: None)
    local = run_eval(EvalConfig(**config), tmp_path / "local", **quiet)
    on_ray = EvalConfig(**config, ray=ray_cluster, workers=2)
    assert on_ray.fingerprint() == EvalConfig(**config).fingerprint()  # same run, same default folder
    lines: list[str] = []
    remote = run_eval(on_ray, tmp_path / "ray", progress=False, log=lines.append)
    assert _same_metrics(remote.metrics, local.metrics)
    for arm in config["arms"]:
        assert _responses(remote.responses[arm]) == _responses(local.responses[arm])
        assert _verdicts(remote.judgements[arm]) == _verdicts(local.judgements[arm])
    assert any(line.startswith("Ray ") for line in lines) and any("(0 cached, 51 generated" in line for line in lines)
    # resume: run again on Ray, then without it, in the Ray run's folder: nothing is asked again
    lines.clear()
    again = run_eval(on_ray, tmp_path / "ray", progress=False, log=lines.append)
    assert _same_metrics(again.metrics, local.metrics) and sum("(51 cached, 0 generated" in line for line in lines) == 2
    lines.clear()
    here = run_eval(EvalConfig(**config), tmp_path / "ray", progress=False, log=lines.append)
    assert _same_metrics(here.metrics, local.metrics) and sum("(51 cached, 0 generated" in line for line in lines) == 2


def test_eval_with_a_real_model_on_ray(ray_cluster, tmp_path, tiny_model_dir):
    """A transformers model in the workers: the same batches as a local run, so the same answers."""
    config = dict(model=f"hf:{tiny_model_dir}?batch_size=4&device=cpu", judge="keyword", attacks_per_scenario=1,
                  benign_per_scenario=0, max_new_tokens=6)
    quiet = dict(progress=False, log=lambda *_: None)
    local = run_eval(EvalConfig(**config), tmp_path / "local", **quiet)
    remote = run_eval(EvalConfig(**config, ray=ray_cluster, workers=2), tmp_path / "ray", **quiet)
    assert _responses(remote.responses["base"]) == _responses(local.responses["base"])
    assert _same_metrics(remote.metrics, local.metrics)


def test_eval_and_judge_cli_on_ray(ray_cluster, tmp_path):
    from typer.testing import CliRunner

    from celm.cli.main import app

    runner = CliRunner()
    script = _script(tmp_path)
    args = ["eval", "-m", f"scripted:{script}", "--judge", "keyword", "--per-scenario", "1", "--benign-per-scenario", "1"]
    out = runner.invoke(app, [*args, "-o", str(tmp_path / "ray"), "--ray", ray_cluster, "--workers", "2"])
    assert out.exit_code == 0, out.output
    assert "Ray " in out.output and "Acc_eval" in out.output
    local = runner.invoke(app, [*args, "-o", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    metrics = [json.loads((tmp_path / d / "metrics.json").read_text(encoding="utf-8")) for d in ("ray", "local")]
    assert _same_metrics(*metrics)
    configs = [json.loads((tmp_path / d / "config.json").read_text(encoding="utf-8")) for d in ("ray", "local")]
    assert configs[0]["config"] == configs[1]["config"]  # the same settings: the same run
    assert configs[0]["ray"] == {"ray": ray_cluster, "workers": 2} and "ray" not in configs[1]  # where it ran

    responses = tmp_path / "ray" / "responses.jsonl"
    judged = runner.invoke(app, ["judge", "score", "-i", str(responses), "-o", str(tmp_path / "j-ray.jsonl"),
                                 "--ray", ray_cluster])
    assert judged.exit_code == 0, judged.output
    plain = runner.invoke(app, ["judge", "score", "-i", str(responses), "-o", str(tmp_path / "j.jsonl")])
    assert plain.exit_code == 0, plain.output
    # Rich wraps at the terminal's width, and the two output paths differ in length: compare words, not lines
    said, said_plain = (" ".join(r.output.split()) for r in (judged, plain))
    counts = said_plain.rpartition(": ")[2]  # "irrelevant 29, reject 1, safe 4"
    assert "34 judgements" in said and said.endswith(counts)
    from celm.data.io import read_records

    assert _verdicts(read_records(tmp_path / "j-ray.jsonl", "judgement")) == _verdicts(read_records(tmp_path / "j.jsonl", "judgement"))


def test_eval_and_judge_without_ray_say_how_to_install(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from celm.cli.main import app

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as without the extra
    runner = CliRunner()
    out = runner.invoke(app, ["eval", "-m", f"scripted:{_script(tmp_path)}", "--judge", "keyword", "--limit", "2",
                              "-o", str(tmp_path / "run"), "--ray", "local"])
    assert out.exit_code == 2 and "pip install 'celm[scale]'" in out.output, out.output
    (tmp_path / "r.jsonl").write_text(json.dumps({"prompt": "你好", "response": "你好！"}, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    judged = runner.invoke(app, ["judge", "score", "-i", str(tmp_path / "r.jsonl"), "-o", str(tmp_path / "j.jsonl"),
                                 "--ray", "local"])
    assert judged.exit_code == 2 and "pip install 'celm[scale]'" in judged.output, judged.output
