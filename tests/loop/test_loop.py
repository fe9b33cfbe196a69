"""celm loop end to end on a tiny random model: two rounds, SFT and DPO in each, report, resume."""

from __future__ import annotations

import json

import pytest

from celm.data.io import read_records
from celm.loop import load_loop_config, run_loop
from celm.loop.folder import LoopFolder
from celm.loop.raters import RATERS
from celm.loop.raters.base import Rater, RatingOutcome
from tests.loop.helpers import tiny_loop_yaml

pytest.importorskip("trl")


class LengthRater(Rater):
    """A deterministic stand-in for the tiny model's babble: rank by length (shorter is better), so
    every instruction's three answers differ and pairs exist. Registered like any rater."""

    kind = "automatic"

    def rate(self, responses, round_folder, *, log=print):
        from celm.data.records import Provenance, Rating

        return RatingOutcome(ratings=[Rating(id=f"{r.id}:final", item_id=r.id, annotator="length", role="final",
                                             score=min(6, len(r.response) // 4), provenance=Provenance(source="test"))
                                      for r in responses])


class VariantRater(Rater):
    """Ranks by the answer's variant (s0 best, d0 worst), whatever the text: every instruction gives
    an SFT row and pairs, however the engine samples."""

    kind = "automatic"

    def rate(self, responses, round_folder, *, log=print):
        from celm.data.records import Provenance, Rating

        rank = {"s0": 0, "s1": 2, "d0": 5}
        return RatingOutcome(ratings=[Rating(id=f"{r.id}:final", item_id=r.id, annotator="variant", role="final",
                                             score=rank[r.id.split("~")[1]], provenance=Provenance(source="test"))
                                      for r in responses])


@pytest.fixture(scope="module", autouse=True)
def length_rater():
    RATERS.register("length", LengthRater, "test: rank by length")
    RATERS.register("variant", VariantRater, "test: rank by variant")
    yield
    for name in ("length", "variant"):
        RATERS._entries.pop(name), RATERS._help.pop(name)


def test_two_rounds_train_sft_and_dpo_and_report(tmp_path, tiny_model_dir):
    cfg = load_loop_config(tiny_loop_yaml(tmp_path, tiny_model_dir, rater={"spec": "length:"}))
    out = tmp_path / "loop"
    result = run_loop(cfg, out, progress=False, log=lambda *_: None)

    lf = LoopFolder(out)
    assert [r.number for r in lf.rounds()] == [0, 1, 2] and all(r.complete for r in lf.rounds())
    used = []
    for k in (1, 2):
        rf = lf.round(k)
        items = read_records(rf.instructions_jsonl)
        assert len(items) == 3 and "p-leak" not in {i.id for i in items}  # the eval prompt stays out of training
        used += [i.id for i in items]
        answers = read_records(rf.responses_jsonl, "response")
        assert len(answers) == 9 and {a.id.split("~")[1] for a in answers} == {"s0", "s1", "d0"}
        assert all(a.system_prompt for a in answers if a.id.endswith("~d0"))
        steps = rf.steps()
        ranks = {r.item_id: r.score for r in read_records(rf.ratings_jsonl, "rating") if r.role == "final"}
        pairs = read_records(rf.pairs_jsonl, "preference_pair")
        assert len(pairs) == steps["pairs"]["pairs"] > 0
        for p in pairs:  # the better-ranked answer is chosen; no tie is a pair
            chosen, rejected = p.provenance.details["chosen_id"], p.provenance.details["rejected_id"]
            assert ranks[chosen] < ranks[rejected]
        assert all(ranks[e.provenance.details["response_id"]] <= 1 for e in read_records(rf.sft_jsonl, "sft_example"))
        assert steps["dpo"]["loss_first"] is not None and steps["dpo"]["model"].endswith("dpo/merged")
        assert (rf.path / "dpo" / "merged" / "config.json").exists()
        assert steps["eval"]["model"] == steps["dpo"]["model"]
    assert len(set(used)) == 6  # new instructions every round
    # round 2 starts from round 1's model
    assert lf.round(2).steps()["responses"]["model"].startswith(lf.round(1).steps()["dpo"]["model"])

    rows = result.rounds
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert rows[1]["rater"] == "length:" and rows[1]["rater_kind"] == "automatic"
    assert rows[1]["change"]["acc_eval"]["n"] == rows[0]["eval_n"]  # paired on the same prompts
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "automatic, not human" in md and "people (annotation app)" not in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "自动评分，非人工" in html
    assert json.loads((out / "rounds.json").read_text(encoding="utf-8")) == json.loads(json.dumps(rows))

    # `celm report compare` reads a loop folder as its rounds, the first round the reference
    from celm.evaluate.compare import compare_runs

    table = compare_runs([out], labels=["mini"])
    assert "| mini round 0 |" in table and "| mini round 2 |" in table and "paired" in table

    # a second run of a finished folder does nothing again
    stamps = {k: lf.round(k).steps_json.stat().st_mtime_ns for k in (0, 1, 2)}
    run_loop(cfg, out, progress=False, log=lambda *_: None)
    assert {k: lf.round(k).steps_json.stat().st_mtime_ns for k in (0, 1, 2)} == stamps


def test_a_loop_that_starts_on_ct2_generates_on_ct2_every_round(tmp_path, tiny_model_dir):
    """LoRA trains the transformers weights; each merged model is converted, so every round's answers
    and its evaluation come from the engine the loop started on, with the start's options."""
    pytest.importorskip("ctranslate2")
    cfg = load_loop_config(tiny_loop_yaml(tmp_path, tiny_model_dir, rater={"spec": "variant:"}, rounds=1,
                                          model=f"ct2:{tiny_model_dir}?compute_type=float32"))
    run_loop(cfg, tmp_path / "loop", progress=False, log=lambda *_: None)
    steps = LoopFolder(tmp_path / "loop").round(1).steps()
    assert steps["responses"]["model"].startswith(f"ct2:{tiny_model_dir}?compute_type=float32")
    assert steps["sft"]["model"].startswith("ct2:") and steps["sft"]["model"].endswith("sft/merged?compute_type=float32")
    assert steps["dpo"]["start_model"] == steps["sft"]["model"]  # DPO trains the SFT model's transformers weights
    assert steps["eval"]["model"] == steps["dpo"]["model"].partition("?")[0] + "?compute_type=float32"
    from celm.models import get_model

    evaluated = get_model(steps["eval"]["model"])
    assert evaluated.folder != get_model(cfg.model).folder  # the trained weights, converted
    assert "engine=ctranslate2" in evaluated.cache_identity and "compute=float32" in evaluated.cache_identity


def test_a_folder_refuses_other_settings(tmp_path, tiny_model_dir):
    cfg = load_loop_config(tiny_loop_yaml(tmp_path, tiny_model_dir, rater={"spec": "length:"}))
    LoopFolder(tmp_path / "loop").start(cfg)
    LoopFolder(tmp_path / "loop").start(cfg.model_copy(update={"rounds": 5}))  # more rounds: fine
    other = cfg.model_copy(update={"seed": 2})
    with pytest.raises(ValueError, match="seed"):
        LoopFolder(tmp_path / "loop").start(other)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="did you mean learning_rate"):
        load_loop_config(None, sft={"settings": {"learnig_rate": 1e-4}})
    with pytest.raises(ValueError, match="the loop sets output_dir"):
        load_loop_config(None, dpo={"settings": {"output_dir": "x"}})
    with pytest.raises(ValueError, match="rater"):
        load_loop_config(None, rater={"spec": "people:"})
    with pytest.raises(ValueError, match="at least two answers"):
        load_loop_config(None, responses={"samples": 1, "distilled": 0})


def test_the_example_yaml_is_every_default(tmp_path):
    from typer.testing import CliRunner

    from celm.cli.main import app
    from celm.loop.config import LoopConfig

    out = CliRunner().invoke(app, ["loop", "example"])
    assert out.exit_code == 0
    path = tmp_path / "loop.yaml"
    path.write_text(out.output, encoding="utf-8")
    assert load_loop_config(path) == LoopConfig()  # the commented example cannot drift from the defaults
    missing = CliRunner().invoke(app, ["loop", "run", "-o", str(tmp_path / "nothing")])
    assert missing.exit_code != 0 and "not a loop folder" in missing.output
