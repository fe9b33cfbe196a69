"""Files touched to add a curation stage: one. Stages registered here, in the test, run in a
pipeline file on every engine (in memory, streaming at any chunk size) with no other change."""

from __future__ import annotations

import contextlib

import pytest

from celm.curate.engine import run_pipeline
from celm.curate.pipeline import PipelineConfig
from celm.curate.report import StageReport
from celm.curate.stages import STAGES, KeyedStage, RowStage, StageParams, stage
from celm.data.io import read_records, write_records
from celm.data.records import Instruction, Provenance
from tests.curate.reference import folder_bytes, run_in_memory


@contextlib.contextmanager
def registered_toy_stages():
    """A toy row stage and a toy keyed stage (defined here, so Ray ships them by value)."""

    class SuffixParams(StageParams):
        suffix: str = "？"

    class KeepPerSourceParams(StageParams):
        most: int = 2

    @stage
    class Suffix(RowStage):
        """Add a suffix to each instruction (a toy row stage)."""

        name = "toy_suffix"
        Params = SuffixParams

        def apply(self, records):
            out = [r.model_copy(update={"text": r.text + self.params.suffix}) for r in records]
            return out, StageReport(stage=self.name, input=len(records), changed=len(out)).finish(len(out))

    @stage
    class KeepPerSource(KeyedStage):
        """Keep the first MOST records of each source (a toy keyed stage)."""

        name = "toy_keep_per_source"
        Params = KeepPerSourceParams

        def prepare(self):
            self.sources: list[str] = []

        def collect(self, record):
            self.sources.append(record.provenance.source)

        def plan(self):
            seen: dict[str, int] = {}
            self.kept = set()
            for i, source in enumerate(self.sources):
                seen[source] = seen.get(source, 0) + 1
                if seen[source] <= self.params.most:
                    self.kept.add(i)
            n = len(self.sources)
            report = StageReport(stage=self.name, input=n, dropped=n - len(self.kept), details={"most": self.params.most})
            return report.finish(len(self.kept))

        def keeps(self, index):
            return index in self.kept

    try:
        yield
    finally:
        STAGES.unregister("toy_suffix")
        STAGES.unregister("toy_keep_per_source")


@pytest.fixture
def toy_stages():
    with registered_toy_stages():
        yield


TOY_STAGES = "\n  - toy_suffix: {suffix: '吗'}\n  - toy_keep_per_source: {most: 3}\n  - normalize\n"


def toy_pipeline(tmp_path, stages: str) -> PipelineConfig:
    rows = [Instruction(id=f"q{k}", text=f"第{k}个问题：怎样合法地{('借钱', '理财', '看病')[k % 3]}", provenance=Provenance(source=f"s{k % 3}"))
            for k in range(12)]
    write_records(tmp_path / "in.jsonl", rows)
    (tmp_path / "p.yaml").write_text(f"input: [in.jsonl]\noutput: out\nstages:{stages}", encoding="utf-8")
    return PipelineConfig.from_yaml(tmp_path / "p.yaml")


@pytest.mark.usefixtures("toy_stages")
@pytest.mark.parametrize("chunk", [1, 5, 100])
def test_a_stage_registered_in_one_place_runs_on_every_engine(tmp_path, chunk):
    check_toy_pipeline(tmp_path, lambda cfg: run_pipeline(cfg, log=lambda m: None, chunk_size=chunk))


def check_toy_pipeline(tmp_path, engine) -> dict:
    """The toy stages through ``engine(config)``: the files of the pool in memory, byte for byte."""
    cfg = toy_pipeline(tmp_path, TOY_STAGES)
    reference = run_in_memory(cfg, tmp_path / "mem")
    summary = engine(cfg)
    assert summary == reference and folder_bytes(tmp_path / "out") == folder_bytes(tmp_path / "mem")
    out = read_records(tmp_path / "out" / "curated.jsonl")
    assert [r.id for r in out] == [f"q{k}" for k in range(9)]  # three of each of the three sources, in order
    assert all(r.text.endswith("吗") for r in out)
    assert [s["stage"] for s in summary["stages"]] == ["toy_suffix", "toy_keep_per_source", "normalize"]
    assert summary["stages"][1]["dropped"] == 3
    return summary


@pytest.mark.usefixtures("toy_stages")
def test_a_stage_params_are_checked_when_the_file_is_read(tmp_path):
    with pytest.raises(ValueError, match=r"stage 1 \(toy_suffix\): sufix: Extra inputs are not permitted"):
        toy_pipeline(tmp_path, "\n  - toy_suffix: {sufix: '吗'}\n")
    with pytest.raises(ValueError, match="unknown stage 'toy_sufix'; did you mean 'toy_suffix'"):
        toy_pipeline(tmp_path, "\n  - toy_sufix\n")


def test_the_toy_stages_are_gone_after_use():
    with registered_toy_stages():
        assert "toy_suffix" in STAGES and "toy_keep_per_source" in STAGES
    assert "toy_suffix" not in STAGES and "toy_keep_per_source" not in STAGES


def test_every_shipped_stage_has_a_kind_and_typed_params():
    assert set(STAGES) >= {"normalize", "dedup", "leakage", "inject", "paraphrase", "approve", "filter", "classify",
                           "norms", "split"}
    kinds = {name: STAGES.get(name).kind for name in STAGES}
    assert kinds["dedup"] == kinds["split"] == "keyed" and kinds["inject"] == "global" and kinds["filter"] == "row"
    dedup = STAGES.get("dedup").Params()
    split = STAGES.get("split").Params()
    leak = STAGES.get("leakage").Params()
    assert dedup.threshold == split.threshold == leak.threshold  # one near-duplicate threshold


def test_params_are_the_annotated_class_attributes_and_calls_runs_the_named_function():
    """A stage's annotated class attributes become its typed Params (defaults, required fields,
    unknown keys refused) and leave no class default behind; ``calls`` runs the named function
    with the records and those params."""
    import pydantic

    class Upper(RowStage, name="upper", calls="celm.curate.normalize:normalize_records"):
        to_simplified: bool = False

    class NeedsPath(RowStage, name="needs_path"):
        path: str
        limit: int = 3

    assert Upper.name == "upper" and Upper.calls == "celm.curate.normalize:normalize_records"
    assert not hasattr(Upper, "to_simplified")
    assert NeedsPath.Params(path="x").limit == 3
    with pytest.raises(pydantic.ValidationError):
        NeedsPath.Params()
    with pytest.raises(pydantic.ValidationError):
        Upper({"to_simplifed": True})
    record = Instruction(id="i1", text="  怎么　辦  ", provenance=Provenance(source="toy"))
    (out,), report = Upper({"to_simplified": True}).run([record])
    assert out.text == "怎么 办" and report.stage == "normalize"
    with pytest.raises(NotImplementedError):
        NeedsPath({"path": "x"}).run([record])


def test_a_registered_stage_gets_its_command_with_an_option_per_param(toy_stages, tmp_path):
    """The command line is made from the stage's params, so the stage's own file is all it takes."""
    import typer
    from typer.testing import CliRunner

    from celm.cli.curate import _stage_command

    app = typer.Typer()
    app.command("toy_suffix")(_stage_command("toy_suffix"))
    app.command("unused")(lambda: None)  # two commands: typer then takes the name as a subcommand
    src = write_records(tmp_path / "in.jsonl", [Instruction(id="a", text="你好", provenance=Provenance(source="s"))])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["toy_suffix", "-i", str(src), "-o", str(out), "--suffix", "呀"])
    assert result.exit_code == 0, result.output
    assert [r.text for r in read_records(out)] == ["你好呀"]
    assert (tmp_path / "out.jsonl.report.json").exists()
    assert "--suffix" in CliRunner().invoke(app, ["toy_suffix", "--help"]).output


def test_the_split_command_takes_shares_as_name_value_pairs(tmp_path):
    from typer.testing import CliRunner

    from celm.cli.main import app

    result = CliRunner().invoke(app, ["curate", "split", "-i", "celm-bench", "-o", str(tmp_path / "s"),
                                      "--share", "sft=0.5", "--share", "rm=0.5"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "s").glob("*.jsonl")} == {"sft.jsonl", "rm.jsonl"}
    bad = CliRunner().invoke(app, ["curate", "split", "-i", "celm-bench", "-o", str(tmp_path / "t"), "--share", "sft"])
    assert bad.exit_code == 2 and "NAME=VALUE" in bad.output
