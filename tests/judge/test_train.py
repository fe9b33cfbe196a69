import numpy as np
import pytest
from typer.testing import CliRunner

from celm.cli.main import app
from celm.data.bundled import load_benchmark, load_judge_examples, load_preference_pairs
from celm.data.io import write_records
from celm.data.records import JudgeExample, Provenance
from celm.judge import get_judge
from celm.judge.train import check_leakage, to_judge_examples, train_builtin

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
