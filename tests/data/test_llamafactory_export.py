"""Optional: LLaMA-Factory's own parsing accepts celm's export. Runs where a LLaMA-Factory venv exists
(`make .venv-lf`; it pins trl<=0.24, so it never shares celm's venv)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from celm.data.exports import DatasetBundle, export

REPO = Path(__file__).resolve().parents[2]
LF_PYTHON = Path(os.environ.get("CELM_LLAMAFACTORY_PYTHON", REPO / ".venv-lf" / "bin" / "python"))


@pytest.mark.skipif(not LF_PYTHON.exists(), reason="no LLaMA-Factory venv (make .venv-lf)")
def test_llamafactory_accepts_export(tmp_path, tiny_model_dir):
    bundle = DatasetBundle.bundled()
    export(bundle, "llamafactory", tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(HF_HUB_OFFLINE="1", DISABLE_VERSION_CHECK="1")
    proc = subprocess.run([str(LF_PYTHON), str(Path(__file__).with_name("llamafactory_check.py")), str(tmp_path / "data"),
                           str(tiny_model_dir), str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["sft"]["rows"] == len(bundle.sft)
    assert report["rm"]["rows"] == len(bundle.preference)
    assert "chosen_input_ids" in report["rm"]["columns"] and "labels" in report["sft"]["columns"]
