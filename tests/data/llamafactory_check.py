"""Run inside a venv that has LLaMA-Factory (never celm's): load celm's export with LLaMA-Factory's
own argument parser, dataset registry and preprocessing. Usage: python llamafactory_check.py DATA_DIR MODEL_DIR OUT"""

import importlib.machinery
import importlib.util
import json
import sys
import types

# LLaMA-Factory imports torchaudio for its multimodal plugin; there is no CPU build matching torch
# 2.13 here, and text datasets never touch it, so a stub stands in when it is missing.
if importlib.util.find_spec("torchaudio") is None:
    stub = types.ModuleType("torchaudio")
    stub.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules["torchaudio"] = stub

from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
from llamafactory.hparams import get_train_args
from llamafactory.model import load_tokenizer

data_dir, model_dir, out = sys.argv[1:4]
report = {}
for stage, dataset in (("sft", "celm_sft"), ("rm", "celm_preference")):
    model_args, data_args, training_args, finetuning_args, _ = get_train_args({
        "model_name_or_path": model_dir, "stage": stage, "do_train": True, "dataset": dataset, "dataset_dir": data_dir,
        "template": "qwen", "finetuning_type": "lora", "output_dir": f"{out}/{stage}", "overwrite_cache": True,
        "cutoff_len": 512, "per_device_train_batch_size": 1, "report_to": "none", "bf16": False, "fp16": False,
    })
    tokenizer_module = load_tokenizer(model_args)
    template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
    module = get_dataset(template, model_args, data_args, training_args, stage=stage, **tokenizer_module)
    ds = module["train_dataset"]
    report[stage] = {"rows": len(ds), "columns": sorted(ds.column_names)}
print(json.dumps(report))
