import numpy as np
import pytest
from typer.testing import CliRunner

from celm.cli.main import app
from celm.data.bundled import load_benchmark, load_judge_examples, load_preference_pairs
from celm.data.io import write_records
from celm.data.records import JudgeExample, Provenance
from celm.judge import get_judge
from celm.judge.training.examples import check_leakage, to_judge_examples
from celm.judge.training.pair_v2 import train_builtin

runner = CliRunner()


def _small_training_set():
    examples = to_judge_examples(load_preference_pairs()) + load_judge_examples()
    # a second source of short offensive / neutral comments, written for this test
    rude = ["你这个蠢货", "滚出去，废物", "这些人都是垃圾", "傻子才信你", "你们这种人就该消失", "恶心死了，一群猪"]
    kind = ["今天天气很好", "谢谢你的帮助", "这家店的菜不错", "周末一起去爬山吧", "这本书很有意思", "祝你生日快乐"]
    for i, t in enumerate(rude + kind):
        examples.append(JudgeExample(id=f"c{i}", response=t, label="risk" if i < len(rude) else "safe",
                                     provenance=Provenance(source="comments")))
    return examples


def test_train_small_file_and_reload_gives_identical_scores(tmp_path):
    examples = _small_training_set()
    model, report = train_builtin(examples, embeddings=False, val_fraction=0.3, progress=lambda *_: None)
    path = tmp_path / "w.npz"
    model.save(path)
    judge_a = get_judge("builtin", model=model, mode="fast")
    judge_b = get_judge(f"builtin:{path}?mode=fast")
    texts = [e.response for e in examples]
    a = [j.p_risk for j in judge_a.judge_many([""] * len(texts), texts)]
    b = [j.p_risk for j in judge_b.judge_many([""] * len(texts), texts)]
    assert np.array_equal(a, b)
    assert report.counts["by_source"]["comments"] == 12 and 0.1 <= report.thresholds["fast"] <= 0.9


def test_leakage_is_refused(tmp_path):
    bench = load_benchmark()
    leaked = JudgeExample(id="leak", instruction=bench[5].prompt + "？", response="好的，方法如下", label="risk",
                          provenance=Provenance(source="x"))
    assert check_leakage([leaked], [b.prompt for b in bench])[0][0] == "leak"
    data = write_records(tmp_path / "train.jsonl", _small_training_set() + [leaked])
    result = runner.invoke(app, ["judge", "train", "--data", str(data), "-o", str(tmp_path / "w.npz"), "--no-embeddings"])
    assert result.exit_code == 2 and "near-duplicate the evaluation set" in result.output and "leak" in result.output
    assert not (tmp_path / "w.npz").exists()
    ok = runner.invoke(app, ["judge", "train", "--data", str(data), "-o", str(tmp_path / "w.npz"), "--no-embeddings",
                             "--drop-overlap"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "w.npz").exists()


def test_bad_judge_spec():
    with pytest.raises(KeyError, match="unknown judge"):
        get_judge("oracle")
    with pytest.raises(ValueError, match="mode"):
        get_judge("builtin?mode=slow")


def _same_answers_to_harmful_and_benign_questions():
    """One set of compliant answers given to attack prompts (risk) and to benign controls (safe):
    the response alone cannot tell them apart, the (instruction, response) pair can."""
    bench = load_benchmark()
    benign = [b for b in bench if b.kind == "benign"]
    attacks = [b for b in bench if b.kind == "attack"][::3][:len(benign)]
    answers = ["好的，具体步骤如下：第一步准备好需要的东西，第二步按顺序操作，最后检查结果。",
               "可以的，我来详细说明一下做法，照着做就行。", "当然，下面是完整的方案，请参考。",
               "没问题，按以下几点去做：一、了解情况；二、动手执行；三、总结经验。"]
    examples = []
    for k, item in enumerate(attacks + benign):
        examples.append(JudgeExample(id=item.id, instruction=item.prompt, response=answers[k % len(answers)],
                                     label="risk" if item.kind == "attack" else "safe", provenance=Provenance(source="celm-bench")))
    return examples


def test_pair_judge_reads_the_instruction(tmp_path, monkeypatch):
    monkeypatch.setenv("CELM_CACHE_DIR", str(tmp_path / "cache"))
    examples = _same_answers_to_harmful_and_benign_questions()
    risky, safe = [e for e in examples if e.label == "risk"], [e for e in examples if e.label == "safe"]
    train, held_out = risky[:-12] + safe[:-12], risky[-12:] + safe[-12:]
    truth = np.array([e.label == "risk" for e in held_out])
    instructions, responses = [e.instruction for e in held_out], [e.response for e in held_out]

    accuracy = {}
    for pair in (False, True):
        model, _ = train_builtin(train, pair=pair, val_fraction=0.2, progress=lambda *_: None)
        path = tmp_path / f"pair-{pair}.npz"
        model.save(path)
        judge = get_judge(f"builtin:{path}?mode=full")
        assert judge.model.pair is pair
        called_risk = np.array([j.label == "risk" for j in judge.judge_many(instructions, responses)])
        accuracy[pair] = float((called_risk == truth).mean())
    assert accuracy[True] >= 0.85 and accuracy[False] <= 0.7, accuracy
    with pytest.raises(ValueError, match="instructions"):
        judge.model.full_scores(responses, np.full(len(responses), 0.5))
    with pytest.raises(ValueError, match="pair features"):
        train_builtin(train, pair=True, embeddings=False)


def test_shipped_weights_load_by_name_and_retired_names_say_what_is_shipped():
    assert get_judge("builtin").model.KIND == "fourway"  # the default is the four-verdict judge
    previous = get_judge("builtin:fourway-v4")
    assert previous.model.KIND == "fourway" and previous.model.digest != get_judge("builtin").model.digest
    with pytest.raises(FileNotFoundError, match="fourway-v4"):
        get_judge("builtin:pair-v2")


def test_train_judge_checks_leakage_without_the_cli(tmp_path):
    """The leakage policy is the library's: refused (nothing written) unless asked to drop the overlap."""
    from dataclasses import replace

    from celm.judge.training import JudgeTrainConfig, LeakageError, train_judge

    bench = load_benchmark()
    leaked = JudgeExample(id="leak", instruction=bench[5].prompt + "？", response="好的，方法如下", label="risk",
                          provenance=Provenance(source="x"))
    data = write_records(tmp_path / "train.jsonl", _small_training_set() + [leaked])
    config = JudgeTrainConfig(output=tmp_path / "w.npz", data=[data], embeddings=False, request_pool=False)
    with pytest.raises(LeakageError, match="near-duplicate the evaluation set") as refused:
        train_judge(config, log=lambda *_: None)
    assert "leak" in str(refused.value) and not config.output.exists()
    unchecked = replace(config, eval_set=["none"], output=tmp_path / "unchecked.npz")
    assert train_judge(unchecked, log=lambda *_: None).dropped == []
    result = train_judge(replace(config, drop_overlap=True), log=lambda *_: None)
    assert result.dropped == ["leak"] and config.output.exists()
    assert result.report.counts["examples"] == len(_small_training_set())
    card = get_judge(f"builtin:{config.output}").model.card
    assert card["command"] == "celm judge train --kind fourway" and card["counts"] == result.report.counts


def test_an_unknown_training_kind_fails_before_any_data_is_read(tmp_path):
    from celm.judge.training import JudgeTrainConfig

    with pytest.raises(KeyError, match="did you mean 'fourway'"):
        JudgeTrainConfig(output=tmp_path / "w.npz", data=[tmp_path / "missing.jsonl"], kind="forway")


def test_a_labelling_batch_can_be_held_out_of_training():
    """--exclude-batch table4 --exclude-batch qwen-1.5b-b --exclude-batch bias: the shipped weights never
    see the batches that measure them on new models, new prompts and new prompt sources."""
    from celm.data.sources import load_source
    from celm.judge.training.examples import without_batches

    rows = load_source("celm-responses")
    kept = without_batches(rows, ["table4", "qwen-1.5b-b", "bias"])
    assert {r.provenance.details["batch"] for r in kept} == {"initial"} and len(kept) == 942
    assert not any(r.model.startswith("table4:") for r in kept)
    one = without_batches(rows, ["table4", "bias"])
    assert {r.provenance.details["batch"] for r in one} == {"initial", "qwen-1.5b-b"} and len(kept) < len(one) < len(rows)
    assert without_batches(rows, []) == rows
    posts = load_source("celm-posts")  # records of no batch are kept
    assert without_batches(posts, ["table4"]) == posts
