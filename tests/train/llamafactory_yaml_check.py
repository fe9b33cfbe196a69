"""Run inside the LLaMA-Factory venv: parse celm's sft/rm/dpo.yaml with LLaMA-Factory's own argument
parser and load their datasets. Usage: python llamafactory_yaml_check.py EXPORT_DIR MODEL_DIR OUT"""

import importlib.machinery
import importlib.util
import json
import sys
import types

import yaml

if importlib.util.find_spec("torchaudio") is None:  # see tests/data/llamafactory_check.py
    stub = types.ModuleType("torchaudio")
    stub.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules["torchaudio"] = stub

from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
from llamafactory.hparams import get_train_args
from llamafactory.model import load_tokenizer

export_dir, model_dir, out = sys.argv[1:4]
report = {}
for stage in ("sft", "rm", "dpo"):
    with open(f"{export_dir}/{stage}.yaml", encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    # Only what a CPU test machine must change: a local tiny model, its template, no fp16.
    cfg.update(model_name_or_path=model_dir, template="qwen", output_dir=f"{out}/{stage}", fp16=False)
    model_args, data_args, training_args, finetuning_args, _ = get_train_args(cfg)
    tokenizer_module = load_tokenizer(model_args)
    template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
    module = get_dataset(template, model_args, data_args, training_args,
                         stage="rm" if stage == "dpo" else stage, **tokenizer_module)
    report[stage] = {
        "rows": len(module["train_dataset"]), "learning_rate": training_args.learning_rate,
        "gradient_accumulation_steps": training_args.gradient_accumulation_steps,
        "num_train_epochs": training_args.num_train_epochs, "lr_scheduler_type": str(training_args.lr_scheduler_type),
        "warmup": training_args.warmup_ratio if hasattr(training_args, "warmup_ratio") else training_args.warmup_steps,
        "finetuning_type": finetuning_args.finetuning_type, "pref_beta": finetuning_args.pref_beta,
        "pref_loss": finetuning_args.pref_loss, "stage": finetuning_args.stage,
    }
print(json.dumps(report))
