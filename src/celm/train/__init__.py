"""Training recipes (SFT, reward model, DPO) on TRL + PEFT, and LLaMA-Factory exports.

Needs the ``train`` extra (``pip install 'celm[train]'``)::

    from celm.train import load_config, train
    result = train(load_config(stage="sft", model="hf:./my-model", data=["sft.jsonl"], output_dir="runs/sft"))
"""

from celm.train.config import DEFAULT_LR, TrainConfig, load_config

__all__ = ["DEFAULT_LR", "TrainConfig", "load_config", "train"]


def train(config: TrainConfig, **kwargs):
    from celm.train.recipes import train as _train

    return _train(config, **kwargs)
