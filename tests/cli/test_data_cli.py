import json

from typer.testing import CliRunner

from celm.cli.main import app

runner = CliRunner()


def test_taxonomy_json():
    result = runner.invoke(app, ["taxonomy", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert len(data["scenarios"]) == 17 and len(data["norms"]) == 17
    assert all("china_centric" in s for s in data["scenarios"]) and all("scenarios" in n for n in data["norms"])


def test_validate_reports_and_exits_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "scenario": "nope"}\n', encoding="utf-8")
    result = runner.invoke(app, ["data", "validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:1: scenario: unknown scenario 'nope'" in result.output
    assert "Traceback" not in result.output


def test_convert_and_stats_and_export(tmp_path):
    src = tmp_path / "b.jsonl"
    assert runner.invoke(app, ["data", "load", "celm-bench", "-o", str(src)]).exit_code == 0
    assert runner.invoke(app, ["data", "convert", str(src), str(tmp_path / "b.parquet")]).exit_code == 0
    result = runner.invoke(app, ["data", "stats", str(tmp_path / "b.parquet"), "--json"])
    stats = json.loads(result.stdout)
    assert stats["total"] == 442 and stats["norms_used"] == 17 and stats["duplicates"] == 0
    result = runner.invoke(app, ["data", "export", "--to", "llamafactory", "--output", str(tmp_path / "lf")])
    assert result.exit_code == 0 and (tmp_path / "lf" / "dataset_info.json").exists()


def test_missing_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["data", "validate", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_type_help_names_every_record_type():
    from celm.cli.data import TYPE_HELP
    from celm.data.records import RECORD_TYPES

    assert len(RECORD_TYPES) == 10
    assert all(name in TYPE_HELP for name in RECORD_TYPES)  # labelled_response and judgement included
