import json

import pytest

from celm.data.bundled import load_benchmark
from celm.data.exports import DatasetBundle, export


def test_llamafactory_layout(tmp_path):
    bundle = DatasetBundle.bundled()
    export(bundle, "llamafactory", tmp_path)
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["celm_preference"]["ranking"] is True
    assert set(info) == {"celm_sft", "celm_preference", "celm_eval"}
    for name, entry in info.items():
        rows = json.loads((tmp_path / entry["file_name"]).read_text(encoding="utf-8"))
        assert all(set(entry["columns"].values()) <= set(r) for r in rows)
        meta = [json.loads(l) for l in (tmp_path / f"{name}.meta.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(meta) == len(rows) and all(m["row"] == i for i, m in enumerate(meta))
        assert all(m["norms"] for m in meta)
    sft = json.loads((tmp_path / "celm_sft.json").read_text(encoding="utf-8"))
    assert sft[0]["output"] == bundle.sft[0].output


def test_trl_formats_pass_trl_checks(tmp_path):
    pytest.importorskip("trl")
    import datasets
    from transformers import AutoTokenizer
    from trl.data_utils import apply_chat_template, is_conversational

    from tests.tiny_models import make_tokenizer

    export(DatasetBundle.bundled(), "trl", tmp_path)
    make_tokenizer(tmp_path / "tok")
    tok = AutoTokenizer.from_pretrained(tmp_path / "tok")
    sft = datasets.load_dataset("json", data_files=str(tmp_path / "sft.jsonl"), split="train")
    pref = datasets.load_dataset("json", data_files=str(tmp_path / "preference.jsonl"), split="train")
    assert is_conversational(sft[0]) and is_conversational(pref[0])
    out = apply_chat_template(pref[0], tok)
    assert set(out) >= {"prompt", "chosen", "rejected"} and out["prompt"].endswith("<|im_start|>assistant\n")
    assert sft[0]["scenario"] == "discrimination"


def test_hf_datasetdict(tmp_path):
    import datasets

    export(DatasetBundle.bundled(), "hf", tmp_path / "ds")
    dd = datasets.load_from_disk(str(tmp_path / "ds"))
    assert set(dd) == {"sft", "preference", "eval"}
    assert dd["eval"].num_rows == len(load_benchmark())


def test_from_records_rejects_untrainable():
    from celm.data.records import Rating

    with pytest.raises(ValueError, match="cannot be exported"):
        DatasetBundle.from_records([Rating(id="r", item_id="i", annotator="a", score=1)])
