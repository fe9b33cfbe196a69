"""Curation on a real local Ray cluster writes the files one process writes, byte for byte."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from celm.cli.main import app
from celm.curate.engine import run_pipeline
from celm.curate.pipeline import PipelineConfig
from tests.curate.reference import folder_bytes, run_in_memory
from tests.curate.test_streaming import config, write_logs


def test_ray_curation_is_byte_identical_to_one_process(tmp_path, ray_cluster):
    from celm.scale.curate import run_pipeline_on_ray

    write_logs(tmp_path)
    cfg = config(tmp_path)
    reference = run_in_memory(cfg, tmp_path / "mem")
    timings: dict = {}
    # small blocks: many map tasks, report merging across blocks, several shuffle partitions' worth of work
    summary = run_pipeline_on_ray(cfg, address=ray_cluster, log=lambda m: None, block_rows=37, timings=timings)
    assert summary == reference
    assert folder_bytes(tmp_path / "out") == folder_bytes(tmp_path / "mem")
    assert {"read", "normalize", "dedup", "split", "write"} <= set(timings)


def test_a_stage_added_in_one_file_runs_on_ray(tmp_path, ray_cluster):
    """The toy row and keyed stages of tests/curate/test_stage_registry.py, on Ray: the keyed one
    has no distributed version, so the driver plans it and the workers apply the plan."""
    from celm.scale.curate import run_pipeline_on_ray
    from tests.curate.test_stage_registry import check_toy_pipeline, registered_toy_stages

    with registered_toy_stages():
        check_toy_pipeline(tmp_path, lambda cfg: run_pipeline_on_ray(cfg, address=ray_cluster, log=lambda m: None,
                                                                     block_rows=4))


def test_distributed_clusters_match_one_process(ray_cluster):
    """Near-duplicate clusters from the band-key shuffle equal near_duplicate_clusters, on texts
    with exact copies, small edits and one bucket far larger than the pairing window."""
    import random

    import numpy as np
    import ray.data

    from celm.curate.dedup import near_duplicate_clusters
    from celm.data.text import normalize_text
    from celm.scale import curate as ray_curate

    rng = random.Random(0)
    seeds = ["如何在不被发现的情况下拿走商店里的东西", "我想了解一下网络贷款平台的合法资质", "为什么有些药物需要处方才能购买",
             "请帮我写一段介绍长城历史的文字", "哪里能买到仿真枪和子弹"]
    texts = []
    for _ in range(400):
        s = rng.choice(seeds)
        k = rng.randrange(4)
        texts.append(s if k == 0 else s + "？" * rng.randrange(1, 4) if k == 1 else "请问" + s if k == 2 else s[:-2] + "呢")
    texts = [normalize_text(t) for t in texts]
    expected = near_duplicate_clusters(texts, threshold=0.7, normalized=True)
    ds = ray.data.from_items([{"okey": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=7)
    old = ray_curate.PARTITION_ROWS
    ray_curate.PARTITION_ROWS = 500  # several shuffle partitions
    try:
        okeys, exact, cluster = ray_curate.distributed_clusters(ds, threshold=0.7)
    finally:
        ray_curate.PARTITION_ROWS = old
    assert okeys.tolist() == list(range(len(texts)))
    assert cluster.tolist() == expected
    assert len(set(expected)) < 25 and np.bincount(cluster).max() > 25  # buckets beyond the window


def test_curate_run_cli_on_ray(tmp_path, ray_cluster):
    write_logs(tmp_path)
    cfg = config(tmp_path, "\n  - normalize\n  - dedup\n  - filter\n  - split\n")
    reference = run_in_memory(cfg, tmp_path / "mem")
    result = CliRunner().invoke(app, ["curate", "run", str(tmp_path / "p.yaml"), "--ray", ray_cluster])
    assert result.exit_code == 0, result.output
    assert "Ray 2." in result.output and "dedup:" in result.output
    assert folder_bytes(tmp_path / "out") == folder_bytes(tmp_path / "mem")
    assert reference["final"] > 0


def test_without_ray_the_flag_says_how_to_install_it(tmp_path, monkeypatch):
    write_logs(tmp_path)
    config(tmp_path, "\n  - normalize\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ValueError, match=r"pip install 'celm\[scale\]'"):
        run_pipeline(PipelineConfig.from_yaml(tmp_path / "p.yaml"), ray="local")
    result = CliRunner().invoke(app, ["curate", "run", str(tmp_path / "p.yaml"), "--ray", "local"])
    assert result.exit_code == 2 and "celm[scale]" in result.output
