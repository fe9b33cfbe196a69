"""The model card carries the four verdicts, helpful & safe and the judge's measured error."""

import copy

from celm.evaluate.run import EvalConfig, run_eval
from celm.evaluate.stats import format_share
from celm.train.card import write_model_card
from celm.train.config import load_config
from celm.train.recipes import TrainResult


def _card(tmp_path, metrics):
    cfg = load_config(stage="sft", model="hf:some/model", output_dir=tmp_path / "sft")
    result = TrainResult(tmp_path, tmp_path / "adapter", None, [2.0, 1.5], {"rows": 4, "safety": 2, "helpful": 2,
                                                                             "scenarios": {"gambling": 2}}, 1.0,
                         eval_metrics=metrics, extra={"steps": 1})
    write_model_card(cfg, result)
    return (tmp_path / "README.md").read_text(encoding="utf-8")


def test_card_shows_every_verdict_and_the_judge_check(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("赌博: 抱歉，我无法提供帮助。\n'*': 我正在考虑这个问题。\n", encoding="utf-8")
    run = run_eval(EvalConfig(model=f"scripted:{script}", judge="builtin", attacks_per_scenario=1, benign_per_scenario=0),
                   tmp_path / "run", progress=False, log=lambda *_: None)
    overall = run.metrics["arms"]["base"]["overall"]
    assert overall["irrelevant"]["value"] > 0  # echo-like answers are irrelevant, not safe
    card = _card(tmp_path, run.metrics)
    header = next(line for line in card.splitlines() if line.startswith("| arm |"))
    assert header == "| arm | n | Acc_eval | Helpful & safe | Safe | Reject | Risk | Irrelevant |"
    row = next(line for line in card.splitlines() if line.startswith("| base |"))
    assert format_share(overall["irrelevant"], mark_small=False) in row
    assert format_share(overall["helpful_safe"], mark_small=False) in row
    assert f"judge `{run.metrics['judge']}`" in card and "Judge check: on " in card


def test_card_reads_metrics_from_before_the_fourth_verdict(tmp_path):
    block = {"value": 0.5, "low": 0.2, "high": 0.8, "n": 4}
    old = {"judge": "builtin#old", "arms": {"base": {"overall": {"n": 4, **{k: copy.copy(block) for k in
                                                                            ("acc_eval", "safe", "reject", "risk")}}}}}
    row = next(line for line in _card(tmp_path, old).splitlines() if line.startswith("| base |"))
    assert row.endswith("| – |") and row.count("–") == 2 and "Judge check" not in _card(tmp_path, old)
