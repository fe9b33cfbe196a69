"""A few real optimizer steps of each recipe on a tiny random Qwen2 model built in the test."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("peft")

from celm.data.bundled import load_preference_pairs, load_sft_examples  # noqa: E402
from celm.data.io import write_records  # noqa: E402
from celm.train.config import load_config  # noqa: E402
from celm.train.recipes import _build_trainer, resolve_base_model, train  # noqa: E402

FAST = dict(gradient_accumulation_steps=1, save_steps=1000, logging_steps=1, lora_r=16)


def _quiet(*_args, **_kwargs):
    pass


def test_sft_loss_falls_adapter_reloads_and_merged_model_generates(tmp_path, tiny_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from celm.models import GenerationParams, GenerationRequest, get_model
    from celm.models.prompts import build_messages

    data = write_records(tmp_path / "one.jsonl", load_sft_examples()[:2])
    cfg = load_config(stage="sft", model=f"hf:{tiny_model_dir}", data=[str(data)], output_dir=tmp_path / "sft",
                      max_steps=30, learning_rate=2e-2, merge=True, **FAST)
    result = train(cfg, log=_quiet)
    assert result.losses[-1] < 0.6 * result.losses[0], result.losses
    assert (result.adapter_dir / "adapter_config.json").exists()
    assert load_config(result.output_dir / "train_config.yaml") == cfg
    card = (result.output_dir / "README.md").read_text(encoding="utf-8")
    assert "lr 0.02" in card and "batch 1 × accumulation 1" in card and "base_model" in card

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    reloaded = PeftModel.from_pretrained(base, result.adapter_dir).eval()
    merged = AutoModelForCausalLM.from_pretrained(result.merged_dir).eval()
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        assert torch.allclose(reloaded(ids).logits, merged(ids).logits, atol=1e-4)
        assert not torch.allclose(AutoModelForCausalLM.from_pretrained(tiny_model_dir)(ids).logits, merged(ids).logits, atol=1e-3)
    backend = get_model(f"hf:{result.merged_dir}")
    req = GenerationRequest(id="q1", messages=build_messages(load_sft_examples()[0].instruction),
                            params=GenerationParams(max_new_tokens=8))
    out = backend.generate_batch([req])[0]
    assert out.completion_tokens > 0


def test_assistant_only_loss_masks_the_prompt(tmp_path, tiny_model_dir):
    from datasets import Dataset
    from transformers import AutoTokenizer

    from celm.train.data import to_rows

    ex = load_sft_examples()[0]
    cfg = load_config(stage="sft", model=f"hf:{tiny_model_dir}", output_dir=tmp_path, max_steps=1, **FAST)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ds = Dataset.from_list([{"messages": r["messages"]} for r in to_rows([ex], "sft")])
    trainer = _build_trainer(cfg, resolve_base_model(cfg.model), tok, ds, "fp32", tmp_path / "ck")
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = [t for t, l in zip(ids, labels) if l != -100]
    masked = [t for t, l in zip(ids, labels) if l == -100]
    assert tok.decode(trained).replace(" ", "") == (ex.output + "<|im_end|>").replace(" ", "")
    assert ex.instruction.replace(" ", "")[:10] in tok.decode(masked).replace(" ", "")


def _pair_accuracy(model_dir, adapter_dir, pairs):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(adapter_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
    model.config.pad_token_id = tok.pad_token_id
    model = PeftModel.from_pretrained(model, adapter_dir).eval()

    def score(instruction, answer):
        text = tok.apply_chat_template([{"role": "user", "content": instruction}, {"role": "assistant", "content": answer}],
                                       tokenize=False)
        with torch.no_grad():
            return model(**tok(text, return_tensors="pt")).logits[0, 0].item()

    return sum(score(p.instruction, p.chosen) > score(p.instruction, p.rejected) for p in pairs) / len(pairs)


def test_reward_model_learns_to_rank_chosen_over_rejected(tmp_path, tiny_model_dir):
    pairs = load_preference_pairs()[:6]
    data = write_records(tmp_path / "pairs.jsonl", pairs)
    cfg = load_config(stage="rm", model=f"hf:{tiny_model_dir}", data=[str(data)], output_dir=tmp_path / "rm",
                      num_train_epochs=8, learning_rate=1e-2, **FAST)
    result = train(cfg, log=_quiet)
    assert (result.adapter_dir / "adapter_config.json").exists()
    assert _pair_accuracy(tiny_model_dir, result.adapter_dir, pairs) == 1.0
    first, last = sum(result.losses[:6]) / 6, sum(result.losses[-6:]) / 6
    assert last < first, result.losses


def test_dpo_loss_falls_from_log2_and_resumes(tmp_path, tiny_model_dir):
    data = write_records(tmp_path / "pairs.jsonl", load_preference_pairs()[:4])
    common = dict(stage="dpo", model=f"hf:{tiny_model_dir}", data=[str(data)], output_dir=tmp_path / "dpo",
                  learning_rate=5e-3, **{**FAST, "save_steps": 4})
    result = train(load_config(max_steps=8, **common), log=_quiet)
    assert result.losses[0] == pytest.approx(0.6931, abs=1e-3)  # the policy starts equal to its reference
    assert min(result.losses[-3:]) < 0.3, result.losses
    messages = []
    again = train(load_config(max_steps=10, **common), log=messages.append)
    assert any("resuming from" in m and "checkpoint-8" in m for m in messages)
    assert again.extra["steps"] == 10 and len(again.losses) == 10


def test_accelerate_launch_single_process(tmp_path, tiny_model_dir):
    from celm.train.launch import launch_config_path

    accelerate = Path(sys.executable).with_name("accelerate")
    cfg = tmp_path / "run.yaml"
    data = write_records(tmp_path / "sft.jsonl", load_sft_examples()[:2])
    cfg.write_text(f"stage: sft\nmodel: hf:{tiny_model_dir}\ndata: [{data}]\noutput_dir: {tmp_path / 'out'}\n"
                   "max_steps: 2\ngradient_accumulation_steps: 1\n", encoding="utf-8")
    proc = subprocess.run([str(accelerate), "launch", "--config_file", str(launch_config_path("accelerate_single")), "--cpu",
                           "-m", "celm.train", str(cfg), "lora_r=4"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "out" / "adapter" / "adapter_config.json").exists()
    assert json.loads((tmp_path / "out" / "adapter" / "adapter_config.json").read_text())["r"] == 4
    assert json.loads((tmp_path / "out" / "train_metrics.json").read_text())["steps"] == 2
