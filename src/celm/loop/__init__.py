"""The paper's iterative loop (section 3.3): rounds of generate → rate → pair → SFT → DPO → evaluate.

    from celm.loop import load_loop_config, run_loop
    result = run_loop(load_loop_config("loop.yaml"), "runs/loop")

``celm loop run loop.yaml -o runs/loop`` does the same; run it again to resume. See docs/loop.md.
"""

from celm.loop.config import LoopConfig, load_loop_config

__all__ = ["LoopConfig", "load_loop_config", "run_loop", "write_loop_report"]


def run_loop(config, folder, **kwargs):
    from celm.loop.run import run_loop as _run

    return _run(config, folder, **kwargs)


def write_loop_report(folder):
    from celm.loop.report import write_loop_report as _write

    return _write(folder)
