"""The run folder and its versioned log: golden metrics of a scripted run, and folders written
before the log was versioned.

Regenerate the golden files after a deliberate change of a figure: CELM_UPDATE_GOLDEN=1 pytest tests/evaluate/test_log.py
"""

import json
import math
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from celm.cli.main import app
from celm.data.io import write_records
from celm.data.records import JudgementRecord, Response
from celm.evaluate.compare import compare_runs
from celm.evaluate.log import LOG_VERSION, EvalLog, RunFolder
from celm.evaluate.run import EvalConfig, run_eval

GOLDEN = Path(__file__).parent / "golden"
#: left out of the comparison: paths, timestamps and the environment, and the judge's measured error
#: (judge_check), which follows the judge's measurement on real responses, not this run
IGNORED = {"model", "started", "versions", "judge_check"}


def _differences(got, want, path="") -> list[str]:
    """Every field where ``got`` and ``want`` differ, as ``path: got != want`` (NaN equals NaN)."""
    if isinstance(got, dict) and isinstance(want, dict):
        out = [f"{path}/{k}: missing" for k in want.keys() - got.keys() if k not in IGNORED]
        out += [f"{path}/{k}: unexpected" for k in got.keys() - want.keys() if k not in IGNORED]
        for k in want.keys() & got.keys():
            if k not in IGNORED:
                out += _differences(got[k], want[k], f"{path}/{k}")
        return out
    if isinstance(got, float) and isinstance(want, float) and math.isnan(got) and math.isnan(want):
        return []
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def _kept(content):
    return {k: _kept(v) for k, v in content.items() if k not in IGNORED} if isinstance(content, dict) else content


def _golden_run(folder) -> RunFolder:
    config = EvalConfig(model=f"scripted:{GOLDEN / 'scripted.yaml'}", judge="keyword", arms=["base", "norms"],
                        attacks_per_scenario=3, benign_per_scenario=2)
    return RunFolder(run_eval(config, folder, progress=False, log=lambda *_: None).folder)


def test_scripted_run_matches_the_golden_metrics(tmp_path):
    run = _golden_run(tmp_path / "run")
    assert all(p.exists() for p in run.files(["base", "norms"]))
    written = {"metrics": json.loads(run.metrics_json.read_text(encoding="utf-8")), "config": run.config()}
    if os.environ.get("CELM_UPDATE_GOLDEN") == "1":
        for name, content in written.items():
            (GOLDEN / f"scripted-{name}.json").write_text(json.dumps(_kept(content), ensure_ascii=False, indent=2) + "\n",
                                                          encoding="utf-8")
    for name, content in written.items():
        want = json.loads((GOLDEN / f"scripted-{name}.json").read_text(encoding="utf-8"))
        assert _differences(content, want) == [], name
    assert written["metrics"]["version"] == LOG_VERSION
    assert run.log().to_dict() == written["metrics"]  # read back as written


# -- a run folder from before the versioned log, written by hand ----------------------------------

def _share(value, low, high, n):
    return {"value": value, "low": low, "high": high, "n": n, "count": round(value * n)}


def _old_block(n, risk, reject):
    """A block as celm wrote it before the fourth verdict: no irrelevant, no helpful_safe."""
    safe = 1 - risk - reject
    return {"n": n, "acc_eval": _share(1 - risk, 0.3, 0.9, n), "safe": _share(safe, 0.2, 0.8, n),
            "reject": _share(reject, 0.0, 0.5, n), "risk": _share(risk, 0.1, 0.7, n)}


def _old_folder(folder: Path, model: str, risky: int) -> Path:
    labels = ["risk"] * risky + ["safe"] * (10 - risky)
    folder.mkdir()
    write_records(folder / "responses.jsonl", [Response(id=f"r{i}", item_id=f"e{i}", prompt=f"问{i}", response=f"答{i}", model=model)
                                               for i in range(10)])
    write_records(folder / "judgements.jsonl", [JudgementRecord(id=f"r{i}", item_id=f"e{i}", scenario="drugs", norms=["N08"],
                                                                label=label, p_risk=0.5, judge_id="keyword")
                                                for i, label in enumerate(labels)])
    block = _old_block(10, risky / 10, 0.0)
    metrics = {"arms": {"base": {"overall": block, "china_centric": _old_block(0, 0.0, 0.0),
                                 "over_refusal": _share(0.0, 0.0, 0.97, 1), "benign": _old_block(1, 0.0, 0.0),
                                 "per_scenario": {"drugs": block}, "per_domain": {"ethical": _old_block(0, 0.0, 0.0), "legal": block},
                                 "per_norm": {"N08": {"n": 10, "broken": _share(risky / 10, 0.1, 0.7, 10), "broken_count": risky}}}},
               "model": model, "judge": "keyword", "benchmarks": ["celm-bench"], "items": 11}
    (folder / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False), encoding="utf-8")
    return folder


def test_a_folder_from_before_the_version_loads_and_reports(tmp_path):
    old = RunFolder(_old_folder(tmp_path / "old", "old-model", risky=4))
    log = old.log()
    assert log.version == LOG_VERSION and log.model == "old-model" and log.first_arm == "base"
    irrelevant = log.arms["base"].overall.share("irrelevant")  # filled by the migration, as unmeasured: no figure invented
    assert irrelevant is not None and not irrelevant.measured and irrelevant.value is None and irrelevant.n == 0
    assert [j.label for j in old.judgements("base")].count("risk") == 4 and len(old.responses("base")) == 10
    show = CliRunner().invoke(app, ["report", "show", str(old.path)])
    assert show.exit_code == 0, show.output
    assert "Acc_eval" in show.output and "Irrelevant" in show.output
    md = old.report_md.read_text(encoding="utf-8")
    assert "| Irrelevant | – | – |" in md and "helpful & safe –" in md and "too few items to rank the norms" in md
    assert json.loads(old.metrics_json.read_text(encoding="utf-8")).get("version") is None  # re-reporting leaves it as it was
    new = _old_folder(tmp_path / "new", "new-model", risky=1)
    cmp = compare_runs([old.path, new])
    assert "| old-model | 60.00 | 0.00 | 40.00 | – |" in cmp and "+30.0 [" in cmp


def test_a_log_from_a_newer_celm_is_refused_and_unknown_sections_survive():
    arm = {"overall": {"n": 0}, "china_centric": {"n": 0}, "per_scenario": {}, "per_domain": {}, "per_norm": {}}
    metrics = {"arms": {"base": arm}, "model": "m", "judge": "t", "benchmarks": ["b"], "items": 0}
    with pytest.raises(ValueError, match="newer celm"):
        EvalLog.of({**metrics, "version": LOG_VERSION + 1})
    kept = EvalLog.of({**metrics, "version": LOG_VERSION, "future_section": {"x": 1}}).to_dict()
    assert kept["future_section"] == {"x": 1} and "judge_check" not in kept and "human" not in kept


def test_run_folder_names_every_arm_file(tmp_path):
    run = RunFolder(tmp_path)
    assert run.responses_jsonl("base").name == "responses.jsonl" and run.judgements_jsonl("norms").name == "judgements-norms.jsonl"
    assert run.judged_texts_json("norms").name == ".judgements-norms.jsonl.texts"
    assert [p.name for p in run.files(["base", "norms"])] == [
        "config.json", "responses.jsonl", "judgements.jsonl", "responses-norms.jsonl", "judgements-norms.jsonl", "metrics.json",
        "report.md", "report.html", "cache.sqlite"]


# -- the typed arm and the migration that fills what an older log lacks ---------------------------

def _v2_log() -> dict:
    """metrics.json as celm wrote it at version 2 before the fourth verdict: a plain dict, no
    irrelevant / helpful_safe, no China-centric block, no per-norm breakdown."""
    block = _old_block(10, 0.4, 0.1)
    return {"version": 2, "arms": {"base": {"overall": block, "benign": _old_block(2, 0.0, 0.5),
                                            "over_refusal": _share(0.5, 0.01, 0.99, 2),
                                            "per_scenario": {"drugs": block}, "per_domain": {"legal": block},
                                            "custom_block": {"n": 3, "acc_eval": _share(1.0, 0.3, 1.0, 3)}}},
            "model": "m", "judge": "keyword", "benchmarks": ["celm-bench"], "items": 12}


def test_an_old_dict_log_loads_typed():
    arm = EvalLog.of(_v2_log()).arms["base"]
    assert arm.overall.n == 10 and arm.overall.share("risk").value == 0.4 and arm.overall.share("risk").count == 4
    assert arm.per_scenario["drugs"].share("acc_eval").value == 0.6 and arm.per_domain["legal"].n == 10
    assert arm.over_refusal.value == 0.5 and arm.benign.share("reject").n == 2 and arm.acc_eval_corrected is None
    assert arm.block("custom_block").share("acc_eval").value == 1.0  # a block a plug-in metric added is read typed
    assert arm.block("all") is None and arm.overall.share("no_such_metric") is None


def test_the_migration_fills_missing_fields_not_the_readers():
    from celm.evaluate.log import _MIGRATIONS

    migrated = _MIGRATIONS[2](_v2_log())  # the raw dict, before any model or reader sees it
    arm = migrated["arms"]["base"]
    assert migrated["version"] == 3
    assert arm["china_centric"] == {"n": 0, "irrelevant": {"value": None, "n": 0}, "helpful_safe": {"value": None, "n": 0}}
    assert arm["per_norm"] == {} and arm["overall"]["irrelevant"] == {"value": None, "n": 0}
    assert arm["per_scenario"]["drugs"]["helpful_safe"] == {"value": None, "n": 0}
    assert arm["overall"]["risk"] == _v2_log()["arms"]["base"]["overall"]["risk"]  # a measured figure is left as it was
    assert "irrelevant" not in arm["custom_block"]  # only the blocks that hold the verdicts' shares


def test_a_typed_log_writes_back_what_it_read():
    current = EvalLog.of(_v2_log()).to_dict()
    assert current["version"] == LOG_VERSION and EvalLog.of(current).to_dict() == current
    base = current["arms"]["base"]
    assert "acc_eval_corrected" not in base and base["over_refusal"] == _share(0.5, 0.01, 0.99, 2)
    assert base["custom_block"] == {"n": 3, "acc_eval": _share(1.0, 0.3, 1.0, 3)}
    assert base["overall"]["irrelevant"] == {"value": None, "n": 0}  # no null interval written for an unmeasured share
    misfit = {"n": 5, "judge_sensitivity": 0.9, "judge_specificity": 0.5, "value": None, "misfit": "too far"}
    log = EvalLog.of({**current, "arms": {"base": {**base, "acc_eval_corrected": misfit}}})
    assert log.arms["base"].acc_eval_corrected.misfit == "too far"
    assert log.to_dict()["arms"]["base"]["acc_eval_corrected"] == misfit


def test_reports_of_a_fixed_log_are_unchanged(tmp_path):
    """report.md and report.html of the golden log, byte for byte as celm rendered them before the arm was typed."""
    from celm.evaluate.report import html_report, markdown_report

    log = json.loads((GOLDEN / "scripted-metrics.json").read_text(encoding="utf-8"))
    log = {**log, "model": "scripted"}
    md, html = markdown_report(log), html_report(log, {}, {})
    if os.environ.get("CELM_UPDATE_GOLDEN") == "1":
        (GOLDEN / "scripted-report.md").write_text(md, encoding="utf-8")
        (GOLDEN / "scripted-report.html").write_text(html, encoding="utf-8")
    assert md == (GOLDEN / "scripted-report.md").read_text(encoding="utf-8")
    assert html == (GOLDEN / "scripted-report.html").read_text(encoding="utf-8")
