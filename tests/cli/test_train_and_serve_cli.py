import json

import pytest
from typer.testing import CliRunner

from celm.cli.main import app
from celm.data.bundled import load_sft_examples
from celm.data.io import write_records
from celm.train.config import DEFAULT_LR


def test_train_sft_from_the_command_line(tmp_path, tiny_model_dir):
    pytest.importorskip("trl")
    data = write_records(tmp_path / "sft.jsonl", load_sft_examples()[:2])
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "sft", "-m", f"hf:{tiny_model_dir}", "-d", str(data), "-o", str(out),
                                      "--max-steps", "2", "--set", "gradient_accumulation_steps=1", "--set", "lora_r=4",
                                      "--norms-in-prompt"])
    assert result.exit_code == 0, result.output
    cfg = (out / "train_config.yaml").read_text(encoding="utf-8")
    assert "lora_r: 4" in cfg and "norms_in_prompt: true" in cfg and "learning_rate: 0.0001" in cfg
    assert json.loads((out / "train_metrics.json").read_text())["steps"] == 2
    bad = CliRunner().invoke(app, ["train", "dpo", "-m", f"hf:{tiny_model_dir}", "-d", str(data), "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "preference pairs" in bad.output


def test_launch_config_paths_exist():
    result = CliRunner().invoke(app, ["train", "launch-config", "deepspeed_zero3"])
    assert result.exit_code == 0 and "zero_stage: 3" in open(result.output.strip(), encoding="utf-8").read()


def test_serve_create_user(tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    runner = CliRunner()
    r = runner.invoke(app, ["serve", "--db", db, "create-user", "boss", "--role", "admin"], env={"CELM_PASSWORD": "long-enough-pw"})
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["serve", "--db", db, "create-user", "boss", "--role", "admin"], env={"CELM_PASSWORD": "long-enough-pw"})
    assert r.exit_code == 2 and "exists" in r.output
    r = runner.invoke(app, ["serve", "--db", db, "create-user", "x", "--role", "king"], env={"CELM_PASSWORD": "long-enough-pw"})
    assert r.exit_code == 2 and "unknown role" in r.output
    from celm.server.db import make_engine, make_sessionmaker
    from celm.server.models import User
    from celm.server.security import verify_password

    with make_sessionmaker(make_engine(db))() as s:
        boss = s.query(User).filter_by(username="boss").one()
        assert boss.role == "admin" and verify_password(boss.password_hash, "long-enough-pw")


def test_serve_create_user_takes_db_after_the_subcommand_too(tmp_path):
    from celm.server.db import make_engine, make_sessionmaker
    from celm.server.models import User

    db = f"sqlite:///{tmp_path / 'after.db'}"
    r = CliRunner().invoke(app, ["serve", "create-user", "ann", "--role", "annotator", "--db", db],
                           env={"CELM_PASSWORD": "long-enough-pw"})
    assert r.exit_code == 0, r.output
    with make_sessionmaker(make_engine(db))() as s:
        assert s.query(User).filter_by(username="ann").one().role == "annotator"


def test_serve_warns_once_about_clear_text_cookies_on_a_network_address(tmp_path, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)  # start nothing; only what is printed matters
    db = f"sqlite:///{tmp_path / 'w.db'}"
    r = CliRunner().invoke(app, ["serve", "--db", db, "--host", "0.0.0.0", "--secret", "s" * 32])
    assert r.exit_code == 0, r.output
    assert r.output.count("clear text") == 1
    r = CliRunner().invoke(app, ["serve", "--db", db, "--host", "0.0.0.0", "--secure-cookies", "--secret", "s" * 32])
    assert "clear text" not in r.output
    r = CliRunner().invoke(app, ["serve", "--db", db, "--secret", "s" * 32])
    assert "clear text" not in r.output


def test_train_help_shows_the_config_defaults():
    """The defaults in --help are read from TrainConfig and DEFAULT_LR, so they cannot drift from them."""
    import typer.main

    from celm.cli.train import app as train_app
    from celm.train.config import TrainConfig

    group = typer.main.get_command(train_app)
    for stage in ("sft", "dpo"):
        params = {p.name: p for p in group.commands[stage].params}
        helps = {name: p.help for name, p in params.items()}
        assert f"{DEFAULT_LR[stage]:g} for {stage}" in helps["learning_rate"] and "--lr" in params["learning_rate"].opts
        assert f"(default {TrainConfig.model_fields['num_train_epochs'].default:g})" in helps["num_train_epochs"]
        assert TrainConfig.model_fields["model"].default in helps["model"]
        # every field a command line can carry is an option, and stage comes from the subcommand
        assert set(TrainConfig.model_fields) - set(params) == {"stage"}
    assert DEFAULT_LR["dpo"] != DEFAULT_LR["sft"]


def test_train_options_override_the_yaml_file_and_unset_ones_keep_it(tmp_path, monkeypatch):
    """An option left out does not reset what the YAML file says; one given wins over it."""
    import celm.train.recipes as recipes

    seen = {}

    def record(cfg, log=None):
        seen["cfg"] = cfg
        raise RuntimeError("the test stops before training")

    monkeypatch.setattr(recipes, "train", record)
    cfg = tmp_path / "run.yaml"
    cfg.write_text("lora_r: 32\nnum_train_epochs: 2\nmerge: true\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "dpo", "-c", str(cfg), "--epochs", "1", "--lora-alpha", "64",
                                      "--eval-options", "limit=20", "--eval-options", "benchmarks=[celm-bench]"])
    got = seen["cfg"]
    assert got.eval_options == {"limit": 20, "benchmarks": ["celm-bench"]}
    assert (got.lora_r, got.num_train_epochs, got.lora_alpha, got.merge) == (32, 1.0, 64, True), result.output
    assert got.stage == "dpo" and got.learning_rate == DEFAULT_LR["dpo"]
