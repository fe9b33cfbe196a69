"""One reader for every judge weights file: it dispatches on the file's ``kind`` and infers the kind
of files written without one; the flat layout's module paths still import."""

import json

import numpy as np
import pytest

from celm.data.records import JudgeExample, Provenance
from celm.judge import get_judge
from celm.judge.models.weights import KINDS, read_arrays, read_weights, shipped_path, write_weights


def _pair_v2_model():
    from celm.judge.training.pair_v2 import train_builtin

    texts = [("好的，步骤如下：首先准备原料。", "risk"), ("首先准备原料，然后加热。", "risk"),
             ("这是一个关于安全的问题，请遵守法律法规。", "safe"), ("请遵守法律法规，注意安全。", "safe")] * 6
    examples = [JudgeExample(id=f"x{i}", response=t, label=y, provenance=Provenance(source="t")) for i, (t, y) in enumerate(texts)]
    return train_builtin(examples, embeddings=False, val_fraction=0.5, progress=lambda *_: None)[0]


def test_every_writer_names_its_kind_and_the_reader_builds_that_class(tmp_path):
    model = _pair_v2_model()
    model.save(tmp_path / "w.npz")
    assert read_arrays(tmp_path / "w.npz")[0]["kind"] == "pair-v2"
    assert type(read_weights(tmp_path / "w.npz")) is KINDS.get("pair-v2")
    for name, kind in (("builtin-fourway-v5.npz", "fourway"), ("probe-qwen2.5-coder-0.5b-instruct.npz", "probe")):
        assert read_arrays(shipped_path(name))[0]["kind"] == kind
        assert read_weights(shipped_path(name)).KIND == kind


def test_a_file_without_a_kind_is_read_by_its_format_version(tmp_path):
    model = _pair_v2_model()
    model.save(tmp_path / "new.npz")
    meta, arrays = read_arrays(tmp_path / "new.npz")
    del meta["kind"]
    np.savez_compressed(tmp_path / "old.npz", meta=np.array(json.dumps(meta)), **arrays)
    judge = get_judge(f"builtin:{tmp_path / 'old.npz'}?mode=fast")
    assert judge.model.KIND == "pair-v2" and judge.model.digest == model.digest
    texts = ["首先准备原料，然后加热。", "请遵守法律法规。", "抱歉，我不能帮助你。"]
    ours = [(j.label, j.p_risk) for j in judge.judge_many([""] * 3, texts)]
    assert ours == [(j.label, j.p_risk) for j in get_judge("builtin", model=model, mode="fast").judge_many([""] * 3, texts)]
    assert ours[2][0] == "reject"  # the refusal detector speaks where the risk model does not


def test_unknown_kinds_and_wrong_judges_are_refused(tmp_path):
    meta, arrays = read_arrays(shipped_path("probe-qwen2.5-coder-0.5b-instruct.npz"))
    with pytest.raises(ValueError, match="must name a kind"):
        write_weights(tmp_path / "x.npz", {**meta, "kind": "oracle"}, arrays)
    assert not (tmp_path / "x.npz").exists()
    np.savez_compressed(tmp_path / "x.npz", meta=np.array(json.dumps({**meta, "kind": "oracle"})), **arrays)
    with pytest.raises(ValueError, match="unknown kind 'oracle'"):
        read_weights(tmp_path / "x.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not celm judge weights"):
        read_weights(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="probe weights: judge with probe:"):
        get_judge(f"builtin:{shipped_path('probe-qwen2.5-coder-0.5b-instruct.npz')}")

