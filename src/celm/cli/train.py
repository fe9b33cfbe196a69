"""celm train: SFT, reward-model and DPO recipes (LoRA, paper appendix A.3), LLaMA-Factory export."""

from __future__ import annotations

from pathlib import Path

import typer

from celm.cli._common import console, friendly_errors, with_config
from celm.train.config import TrainConfig

app = typer.Typer(help="Train with the paper's recipes: sft, rm, dpo (训练). Needs `pip install 'celm\\[train]'`.",
                  no_args_is_help=True)

_STAGE_HELP = {
    "sft": "Supervised fine-tuning with LoRA on safe responses (SFTExample; pairs use their chosen answer).",
    "rm": "Train a reward model on preference pairs (chosen vs rejected).",
    "dpo": "Direct preference optimisation on preference pairs (sigmoid loss, beta 0.1, lr 5e-6).",
}


def _make_command(stage: str):
    @with_config(TrainConfig, skip=("stage",))
    def command(
        settings: dict,
        config: Path = typer.Option(None, "--config", "-c", help="YAML file of settings (any TrainConfig field); "
                                    "options given here override it"),
        set_: list[str] = typer.Option(None, "--set", help="any setting as KEY=VALUE, values read as YAML, e.g. --set lora_r=16 (repeat)"),
    ) -> None:
        from celm.train.config import load_config
        from celm.train.recipes import train

        cfg = load_config(config, assignments=set_ or [], stage=stage, **settings)
        result = train(cfg, log=console.print)
        console.print(f"[green]done[/green] in {result.runtime_s:.0f} s: adapter {result.adapter_dir}"
                      + (f", merged {result.merged_dir}" if result.merged_dir else ""))
        if result.losses:
            console.print(f"loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f}; model card {result.output_dir / 'README.md'}")

    command.__doc__ = _STAGE_HELP[stage] + "\n\nExample: celm train " + stage + (
        " --data celm-sft --helpful-data alpaca-zh-demo --safety-ratio 0.5 -o runs/sft" if stage == "sft"
        else " --data jade-v3 --helpful-data dpo-zh-demo -o runs/" + stage)
    return friendly_errors(command)


for _stage in ("sft", "rm", "dpo"):
    app.command(name=_stage)(_make_command(_stage))


@app.command("export-llamafactory")
@friendly_errors
def export_llamafactory(
    output: Path = typer.Option(..., "--output", "-o", help="folder to write datasets and sft/rm/dpo.yaml into"),
    data: list[Path] = typer.Option(None, "--data", "-d", help="celm SFT / preference / eval files (default: bundled data)"),
    config: Path = typer.Option(None, "--config", "-c", help="a celm train YAML whose settings the configs copy"),
    model: str = typer.Option(None, "--model", "-m", help="model_name_or_path for the configs"),
    template: str = typer.Option("default", help="LLaMA-Factory chat template name (qwen, llama3, gemma, ...)"),
) -> None:
    """Write LLaMA-Factory datasets, dataset_info.json and sft.yaml / rm.yaml / dpo.yaml with the paper's settings.

    Then: llamafactory-cli train OUTPUT/sft.yaml
    """
    from celm.data.exports import DatasetBundle
    from celm.data.io import read_many
    from celm.train.config import load_config
    from celm.train.llamafactory import export_llamafactory as run

    bundle = DatasetBundle.from_records(list(read_many(data))) if data else None
    written = run(output, bundle, load_config(config, model=model), template=template)
    for path in written:
        console.print(f"  {path}")


@app.command("launch-config")
def launch_config(name: str = typer.Argument("accelerate_single", help="accelerate_single | accelerate_multi_gpu | deepspeed_zero2 | deepspeed_zero3")) -> None:
    """Print the path of a shipped accelerate/DeepSpeed config, for `accelerate launch --config_file`.

    accelerate launch --config_file "$(celm train launch-config deepspeed_zero2)" -m celm.train run.yaml
    """
    from celm.train.launch import launch_config_path

    print(launch_config_path(name))
