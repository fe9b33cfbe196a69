import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from celm.cli.main import app
from celm.data.bundled import load_preference_pairs, load_sft_examples

REPO = Path(__file__).resolve().parents[2]
LF_PYTHON = Path(os.environ.get("CELM_LLAMAFACTORY_PYTHON", REPO / ".venv-lf" / "bin" / "python"))


def test_export_writes_configs_with_the_papers_settings(tmp_path):
    result = CliRunner().invoke(app, ["train", "export-llamafactory", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sft, dpo, rm = (yaml.safe_load((tmp_path / f"{s}.yaml").read_text(encoding="utf-8")) for s in ("sft", "dpo", "rm"))
    assert (sft["stage"], sft["finetuning_type"], sft["learning_rate"], sft["gradient_accumulation_steps"]) == ("sft", "lora", 1e-4, 8)
    assert (sft["num_train_epochs"], sft["lr_scheduler_type"], sft["warmup_ratio"], sft["per_device_train_batch_size"]) == (3.0, "cosine", 0.1, 1)
    assert (dpo["stage"], dpo["pref_beta"], dpo["pref_loss"], dpo["learning_rate"]) == ("dpo", 0.1, "sigmoid", 5e-6)
    assert rm["stage"] == "rm" and rm["dataset"] == dpo["dataset"] == "celm_preference" and sft["dataset"] == "celm_sft"
    assert sft["model_name_or_path"] == "google/gemma-3-270m" and Path(sft["dataset_dir"]) == tmp_path.resolve()
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(info) >= {"celm_sft", "celm_preference"}
    rows = json.loads((tmp_path / "celm_sft.json").read_text(encoding="utf-8"))
    assert len(rows) == len(load_sft_examples())


def test_export_takes_data_model_and_settings(tmp_path):
    from celm.data.io import write_records

    pairs = write_records(tmp_path / "pairs.jsonl", load_preference_pairs()[:5])
    cfg = tmp_path / "run.yaml"
    cfg.write_text("lora_r: 32\nnum_train_epochs: 1\nbeta: 0.2\n", encoding="utf-8")
    out = tmp_path / "lf"
    result = CliRunner().invoke(app, ["train", "export-llamafactory", "-o", str(out), "-d", str(pairs), "-c", str(cfg),
                                      "-m", "hf:Qwen/Qwen2.5-7B-Instruct", "--template", "qwen"])
    assert result.exit_code == 0, result.output
    assert not (out / "sft.yaml").exists()  # no SFT data given, so no SFT config
    dpo = yaml.safe_load((out / "dpo.yaml").read_text(encoding="utf-8"))
    assert (dpo["lora_rank"], dpo["num_train_epochs"], dpo["pref_beta"], dpo["template"]) == (32, 1, 0.2, "qwen")
    assert dpo["model_name_or_path"] == "Qwen/Qwen2.5-7B-Instruct"
    assert len(json.loads((out / "celm_preference.json").read_text(encoding="utf-8"))) == 5


@pytest.mark.skipif(not LF_PYTHON.exists(), reason="no LLaMA-Factory venv (make llamafactory-venv)")
def test_llamafactory_parses_the_configs(tmp_path, tiny_model_dir):
    from celm.train.llamafactory import export_llamafactory

    export_llamafactory(tmp_path / "export")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(HF_HUB_OFFLINE="1", DISABLE_VERSION_CHECK="1")
    proc = subprocess.run([str(LF_PYTHON), str(Path(__file__).with_name("llamafactory_yaml_check.py")), str(tmp_path / "export"),
                           str(tiny_model_dir), str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["sft"]["rows"] == len(load_sft_examples()) and report["dpo"]["rows"] == len(load_preference_pairs())
    assert report["sft"]["learning_rate"] == 1e-4 and report["dpo"]["learning_rate"] == 5e-6
    assert report["dpo"]["pref_beta"] == 0.1 and report["dpo"]["pref_loss"] == "sigmoid" and report["dpo"]["stage"] == "dpo"
    assert report["sft"]["gradient_accumulation_steps"] == 8 and report["sft"]["finetuning_type"] == "lora"
    assert report["sft"]["lr_scheduler_type"].lower().endswith("cosine") and report["rm"]["stage"] == "rm"
