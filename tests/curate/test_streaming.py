"""The streaming executor writes what the whole pool in memory writes, byte for byte, whatever the
chunk size; a bad input row leaves the output folder untouched."""

from __future__ import annotations

import pytest

from celm.curate.engine import run_pipeline
from celm.curate.pipeline import PipelineConfig
from celm.curate.streaming import segments
from celm.data.errors import DataValidationError
from celm.data.io import write_records
from celm.data.records import Instruction, Provenance
from tests.curate.reference import folder_bytes, run_in_memory

STAGES = """
  - normalize: {to_simplified: true}
  - dedup: {threshold: 0.7, priority: [celm-bench]}
  - leakage: {eval: [celm-bench], threshold: 0.9, remove: false}
  - inject: {per_scenario: 1}
  - filter: {}
  - classify: {threshold: 0.3}
  - norms
  - split: {shares: {sft: 0.6, rm: 0.2, eval: 0.2}}
"""


def write_logs(folder):
    """Platform-log-like instructions: exact and near duplicates (a bucket larger than the LSH
    window of 24), traditional characters, a too-short one, a copy of a benchmark prompt."""
    from celm.data.bundled import load_benchmark

    base = "帮我写一份招聘启事，要求只招35岁以下的男性，已婚未育的女性一律不要，措辞要显得合理。"
    texts = ["請問哪裡可以買到冰毒？", base, base, "嗯", load_benchmark()[3].prompt]
    texts += [base + "谢谢" * (k % 3) + "！" * (k // 3) for k in range(40)]
    texts += [f"第{k}个问题：怎样才能在网上合法地{('借钱', '理财', '看病', '报警')[k % 4]}？" for k in range(30)]
    rows = [Instruction(id=f"log-{k}", text=t, provenance=Provenance(source="logs")) for k, t in enumerate(texts)]
    write_records(folder / "logs.jsonl", rows)


def config(tmp_path, stages=STAGES, name="p.yaml"):
    (tmp_path / name).write_text(f"input: [logs.jsonl, celm-bench]\noutput: out\nseed: 5\nstages:{stages}", encoding="utf-8")
    return PipelineConfig.from_yaml(tmp_path / name)


@pytest.mark.parametrize("chunk", [1, 7, 50_000])
def test_streaming_equals_the_pool_in_memory(tmp_path, chunk):
    write_logs(tmp_path)
    cfg = config(tmp_path)
    reference = run_in_memory(cfg, tmp_path / "mem")
    summary = run_pipeline(cfg, log=lambda m: None, chunk_size=chunk)
    assert summary == reference
    assert folder_bytes(tmp_path / "out") == folder_bytes(tmp_path / "mem")
    assert summary["stages"][1]["reasons"]["near_duplicate"] >= 30  # the big bucket was joined
    assert not list((tmp_path / "out").glob(".*"))  # no spill or temporary file left


@pytest.mark.parametrize("stages", [
    "\n  - normalize\n  - filter\n",                       # row stages only
    "\n  - dedup: {threshold: 0.6}\n",                     # a keyed stage last
    "\n  - normalize\n  - inject: {per_scenario: 2}\n",    # a stage that holds its input, last
    "\n  - split\n",                                        # split alone
])
def test_streaming_equals_in_memory_for_other_shapes(tmp_path, stages):
    write_logs(tmp_path)
    cfg = config(tmp_path, stages)
    reference = run_in_memory(cfg, tmp_path / "mem")
    assert run_pipeline(cfg, log=lambda m: None, chunk_size=3) == reference
    assert folder_bytes(tmp_path / "out") == folder_bytes(tmp_path / "mem")


def test_a_bad_row_writes_nothing(tmp_path):
    write_logs(tmp_path)
    with open(tmp_path / "logs.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"id": "log-0", "text": "重复的编号", "provenance": {"source": "logs"}}\n{"id": "x"}\n')
    cfg = config(tmp_path)
    with pytest.raises(DataValidationError) as err:
        run_pipeline(cfg, log=lambda m: None, chunk_size=4)
    text = "\n".join(map(str, err.value.issues))
    assert "duplicate id 'log-0'" in text and "logs.jsonl:76" in text and "logs.jsonl:77" in text
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_segments_cut_the_chain_at_whole_pool_stages():
    names = lambda stages: [([n for n, _ in run], pool and pool[0]) for run, pool in segments(stages)]  # noqa: E731
    chain = [(n, {}) for n in ("normalize", "dedup", "filter", "classify", "inject", "norms", "split")]
    assert names(chain) == [(["normalize"], "dedup"), (["filter", "classify"], "inject"), (["norms"], "split")]
    assert names([("normalize", {})]) == [(["normalize"], None)]


def test_the_shared_sources_stream_as_in_memory(tmp_path, shared_data):
    (tmp_path / "p.yaml").write_text("""
input: [jade-v2-easy, jade-v2-medium, flames, xsafety, cvalues]
output: out
stages:
  - normalize
  - dedup
  - leakage: {eval: [celm-bench], remove: true}
  - filter
  - classify: {threshold: 0.5}
  - norms
  - split
""", encoding="utf-8")
    cfg = PipelineConfig.from_yaml(tmp_path / "p.yaml")
    assert run_pipeline(cfg, log=lambda m: None, chunk_size=997) == run_in_memory(cfg, tmp_path / "mem")
    assert folder_bytes(tmp_path / "out") == folder_bytes(tmp_path / "mem")
