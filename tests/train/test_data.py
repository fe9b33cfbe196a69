import json

import pytest

from celm.data.bundled import load_preference_pairs, load_sft_examples
from celm.data.io import write_records
from celm.models.prompts import NORM_HEADER
from celm.train.config import load_config
from celm.train.data import build_training_rows, load_spec, mix, to_rows


def test_config_defaults_are_the_papers_and_overrides_win(tmp_path):
    sft, dpo = load_config(stage="sft"), load_config(stage="dpo")
    assert (sft.per_device_train_batch_size, sft.gradient_accumulation_steps, sft.num_train_epochs) == (1, 8, 3)
    assert sft.learning_rate == 1e-4 and dpo.learning_rate == 5e-6 and dpo.beta == 0.1 and dpo.loss_type == "sigmoid"
    assert (sft.lr_scheduler_type, sft.warmup_ratio) == ("cosine", 0.1)
    cfg_file = tmp_path / "run.yaml"
    cfg_file.write_text("stage: dpo\nlora_r: 4\nlearning_rate: 1.0e-5\n", encoding="utf-8")
    cfg = load_config(cfg_file, assignments=["lora_r=16", "norms_in_prompt=true"], max_steps=3)
    assert (cfg.stage, cfg.lora_r, cfg.learning_rate, cfg.norms_in_prompt, cfg.max_steps) == ("dpo", 16, 1e-5, True, 3)
    # the saved YAML reloads to the same settings
    (tmp_path / "saved.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
    assert load_config(tmp_path / "saved.yaml") == cfg
    with pytest.raises(ValueError, match="KEY=VALUE"):
        load_config(assignments=["lora_r"])
    with pytest.raises(ValueError, match="lora_rank"):
        load_config(assignments=["lora_rank=4"])


def test_mix_by_ratio_and_by_count_is_seeded():
    safety, helpful = list(range(100)), [f"h{i}" for i in range(300)]
    mixed, counts = mix(safety, helpful, safety_ratio=0.5, seed=1)
    assert counts == {"safety": 100, "helpful": 100} and len(mixed) == 200
    assert mix(safety, helpful, safety_ratio=0.5, seed=1)[0] == mixed
    assert mix(safety, helpful, safety_ratio=0.5, seed=2)[0] != mixed
    _, counts = mix(safety, helpful, safety_ratio=0.25)
    assert counts == {"safety": 100, "helpful": 300}
    _, counts = mix(safety, helpful, safety_count=10, helpful_count=30)
    assert counts == {"safety": 10, "helpful": 30}


def test_rows_per_stage_and_norms_in_prompt():
    sft, pairs = load_sft_examples(), load_preference_pairs()
    rows = to_rows(sft[:2], "sft", norms_in_prompt=True, system_prompt="S")
    msgs = rows[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"] and msgs[0]["content"] == "S"
    assert msgs[1]["content"].startswith(NORM_HEADER) and msgs[1]["content"].endswith(sft[0].instruction)
    assert msgs[2]["content"] == sft[0].output
    pref = to_rows(pairs[:1], "dpo")[0]
    assert pref["chosen"] == [{"role": "assistant", "content": pairs[0].chosen}] and pref["prompt"][-1]["role"] == "user"
    assert to_rows(pairs[:1], "sft")[0]["messages"][-1]["content"] == pairs[0].chosen  # pairs feed SFT by their chosen answer
    with pytest.raises(ValueError, match="preference pairs"):
        to_rows(sft[:1], "rm")


def test_trl_format_files_and_sources_load(tmp_path):
    trl = tmp_path / "trl.jsonl"
    trl.write_text(json.dumps({"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "您好"}]},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_spec(str(trl))[0]["messages"][1]["content"] == "您好"
    celm_file = write_records(tmp_path / "sft.jsonl", load_sft_examples()[:3])
    assert len(load_spec(str(celm_file))) == 3
    with pytest.raises(FileNotFoundError, match="no such file, and unknown source"):
        load_spec("no-such-thing")
    cfg = load_config(data=[str(celm_file)], helpful_data=[str(trl)], safety_ratio=0.5)
    rows, manifest = build_training_rows(cfg)
    assert manifest["safety"] == 1 and manifest["helpful"] == 1 and len(rows) == 2


def test_mix_of_shared_sources(shared_data):
    cfg = load_config(stage="dpo", data=["jade-v3"], helpful_data=["dpo-zh-demo"], safety_ratio=0.5)
    rows, manifest = build_training_rows(cfg)
    assert manifest["safety"] == manifest["helpful"] == 300 and len(rows) == 600
    assert sum(r["id"].startswith("dpo-zh") for r in rows) == 300
    assert rows[:20] != sorted(rows[:20], key=lambda r: r["id"])  # interleaved, not one source after the other
