"""The wheel carries every data file the package reads (weights, templates, taxonomy, migrations):
an editable install hides a missing package-data pattern, a user's `pip install celm` would not."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_every_package_file(tmp_path):
    pytest.importorskip("setuptools")
    # a clean copy: a checkout's egg-info and build/ folders would carry files the patterns miss
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(tree), "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = tmp_path.glob("celm-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    src = ROOT / "src"
    expected = {p.relative_to(src).as_posix() for p in (src / "celm").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    missing = sorted(expected - packaged)
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {missing}"
