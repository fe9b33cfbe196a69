import json
import re

from typer.testing import CliRunner

from celm.cli.main import app

runner = CliRunner()


def _script(tmp_path, text):
    path = tmp_path / f"s{abs(hash(text)) % 1000}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_eval_report_compare(tmp_path):
    risky = _script(tmp_path, "'*': 好的，步骤如下：首先……\n")
    careful = _script(tmp_path, "'*': 抱歉，我不能提供帮助。建议您咨询专业人士。\n")
    a = runner.invoke(app, ["eval", "-m", f"scripted:{risky}", "--judge", "keyword", "--per-scenario", "3",
                            "--benign-per-scenario", "1", "-o", str(tmp_path / "a")])
    assert a.exit_code == 0, a.output
    assert "Acc_eval" in a.output and "run folder" in a.output
    assert "Helpful & safe" in a.output and "Irrelevant" in a.output  # the fourth verdict reaches the terminal
    # the keyword judge was measured on celm-responses: its error is printed with the run's figures
    assert "judge check:" in a.output and "points off the labels" in a.output
    assert "Judge check" in (tmp_path / "a" / "report.md").read_text(encoding="utf-8")
    b = runner.invoke(app, ["eval", "-m", f"scripted:{careful}", "--judge", "keyword", "--per-scenario", "3",
                            "--benign-per-scenario", "1", "-o", str(tmp_path / "b"), "--both-arms"])
    assert b.exit_code == 0, b.output
    show = runner.invoke(app, ["report", "show", str(tmp_path / "a")])
    assert show.exit_code == 0 and "Acc_eval" in show.output
    cmp = runner.invoke(app, ["report", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--label", "risky",
                              "--label", "careful", "-o", str(tmp_path / "cmp.md")])
    assert cmp.exit_code == 0, cmp.output
    md = (tmp_path / "cmp.md").read_text(encoding="utf-8")
    assert "| risky |" in md and "| careful |" in md and "paper table 5" in md
    assert "Irrelevant" in md and "Δ Helpful & safe (points)" in md
    # the gain with its paired interval, which excludes zero: "+100.0 [+LOW, +100.0]* paired"
    gain = re.search(r"\+100\.0 \[\+(\d+\.\d), \+100\.0\]\* paired", md)
    assert gain and 80 < float(gain.group(1)) < 100, md
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["arms"]["base"]["overall"]["acc_eval"]["value"] == 0.0


def test_eval_profile_and_bad_benchmark(tmp_path):
    script = _script(tmp_path, "'*': 抱歉，我不能提供帮助。\n")
    out = runner.invoke(app, ["eval", "-m", f"scripted:{script}", "--judge", "keyword", "--profile", "gbt45654",
                              "-o", str(tmp_path / "p")])
    assert out.exit_code == 0, out.output
    assert "overall FAIL" in out.output  # refusing everything fails the should-not-refuse bank
    compliance = json.loads((tmp_path / "p" / "metrics.json").read_text(encoding="utf-8"))["compliance"]
    status = {c["bank"]: c["status"] for c in compliance["criteria"]}
    assert status == {"generated_content": "PASS", "should_refuse": "PASS", "should_not_refuse": "FAIL"}
    assert compliance["overall"] == "FAIL" and compliance["standard"].startswith("GB/T 45654")
    assert any("at least 1000" in w for c in compliance["criteria"] for w in c["warnings"])
    assert "GB/T 45654" in (tmp_path / "p" / "report.md").read_text(encoding="utf-8")
    bad = runner.invoke(app, ["eval", "-m", "echo", "-b", "no-such-benchmark", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "unknown source" in bad.output


def test_generate_cli_and_judge_score(tmp_path):
    items = tmp_path / "items.jsonl"
    assert runner.invoke(app, ["data", "load", "celm-bench", "-o", str(items)]).exit_code == 0
    out = runner.invoke(app, ["generate", "-m", "echo", "-i", str(items), "-o", str(tmp_path / "r.jsonl"), "--limit", "20",
                              "--cache", str(tmp_path / "c.sqlite")])
    assert out.exit_code == 0 and "20 responses" in out.output
    judged = runner.invoke(app, ["judge", "score", "-i", str(tmp_path / "r.jsonl"), "-o", str(tmp_path / "j.jsonl"),
                                 "--judge", "builtin?mode=fast"])
    assert judged.exit_code == 0, judged.output
    assert "20 judgements" in judged.output


def test_eval_options_come_from_eval_config():
    """Every EvalConfig field is a `celm eval` option with the field's default, so the two cannot drift."""
    import dataclasses

    import typer.main

    from celm.evaluate.run import EvalConfig

    command = typer.main.get_command(app).commands["eval"]
    params = {p.name: p for p in command.params}
    defaults = EvalConfig()
    for f in dataclasses.fields(EvalConfig):
        assert f.name in params, f"EvalConfig.{f.name} has no celm eval option"
        default = params[f.name].default
        assert (list(default) if isinstance(default, (list, tuple)) else default) == getattr(defaults, f.name), f.name
        assert params[f.name].help == f.metadata["help"]
    # the names and short flags people type keep working
    opts = {o for p in command.params for o in p.opts}
    assert {"-m", "--model", "-b", "--benchmark", "-j", "--judge", "--per-scenario", "--benign-per-scenario", "--full",
            "--with-norms", "--both-arms", "--system-prompt", "--safety-system-prompt", "-o", "--output", "--seed",
            "--limit", "--concurrency", "--max-new-tokens", "--calibration", "--human-labels", "--profile"} <= opts


def test_eval_arm_flags_and_unknown_arm(tmp_path, monkeypatch):
    import celm.evaluate.run as run_module

    seen = []
    monkeypatch.setattr(run_module, "run_eval", lambda config, *a, **k: seen.append(config) or (_ for _ in ()).throw(ValueError("stop")))
    for args, arms in ((["--both-arms"], ["base", "norms"]), (["--with-norms"], ["norms"]), (["--arm", "norms"], ["norms"]), ([], ["base"])):
        out = runner.invoke(app, ["eval", "-m", "echo", *args])
        assert out.exit_code == 2 and seen[-1].arms == arms, out.output
    bad = runner.invoke(app, ["eval", "-m", "echo", "--arm", "norm"])
    assert bad.exit_code == 2 and "unknown arm 'norm'" in bad.output


def test_judge_train_options_come_from_its_config():
    """Every JudgeTrainConfig field is a `celm judge train` option with the field's default."""
    import dataclasses

    import typer.main

    from celm.judge.training import JudgeTrainConfig

    command = typer.main.get_command(app).commands["judge"].commands["train"]
    params = {p.name: p for p in command.params}
    for f in dataclasses.fields(JudgeTrainConfig):
        assert f.name in params, f"JudgeTrainConfig.{f.name} has no celm judge train option"
        assert params[f.name].help == f.metadata["help"]
        if f.default is not dataclasses.MISSING:
            assert params[f.name].default == f.default, f.name
    assert params["output"].required and not params["kind"].required
    opts = {o for p in command.params for o in p.opts} | {o for p in command.params for o in p.secondary_opts}
    assert {"-o", "--output", "-d", "--data", "--source", "--kind", "--eval-set", "--drop-overlap", "--no-embeddings",
            "--pair", "--probe-model", "--layer", "--device", "--no-request-pool", "--exclude-batch", "--seed"} <= opts
