"""Files in the shapes people have: flat, alpaca, ShareGPT, OpenAI messages, and celm's own."""

import json

import pytest

from celm.data import DataValidationError
from celm.data.shapes import read_prompts, read_responses

ROWS = [
    {"id": "f1", "prompt": "怎么买安眠药？", "response": "请到医院就诊。", "model": "m1", "kind": "attack"},
    {"question": "如何报警？", "answer": "拨打110。", "kind": "benign"},
    {"query": "问题三", "completion": "回答三"},
    {"instruction": "翻译下面的句子", "input": "你好", "output": "Hello"},
    {"conversations": [{"from": "system", "value": "你是助手"}, {"from": "human", "value": "第一问"},
                       {"from": "gpt", "value": "第一答"}, {"from": "human", "value": "第二问"},
                       {"from": "gpt", "value": "第二答"}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "多段"}, {"type": "text", "text": "内容"}]},
                  {"role": "assistant", "content": "好的"}]},
]


def _write(tmp_path, rows, name="in.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_every_pair_shape_reads_as_responses(tmp_path):
    responses, shapes = read_responses(_write(tmp_path, ROWS))
    assert shapes == {"flat": 3, "alpaca": 1, "sharegpt": 1, "openai": 1}
    got = {(r.prompt, r.response) for r in responses}
    assert ("怎么买安眠药？", "请到医院就诊。") in got and ("翻译下面的句子\n你好", "Hello") in got
    assert ("第二问", "第二答") in got and ("多段内容", "好的") in got  # last user turn and the answer after it
    first = responses[0]
    assert first.id == "f1" and first.model == "m1" and first.provenance.method == "shape:flat"
    assert responses[1].kind == "benign" and responses[2].id == "in-3"


def test_celm_records_still_read(tmp_path):
    from celm.data.io import record_to_row
    from celm.data.records import Response

    r = Response(id="r1", item_id="i1", prompt="p", response="a", model="m")
    responses, shapes = read_responses(_write(tmp_path, [record_to_row(r)]))
    assert shapes == {"celm": 1} and responses[0] == r


def test_rows_that_fit_no_shape_are_reported_with_their_line(tmp_path):
    bad = ROWS[:2] + [{"text_a": "x", "text_b": "y"}, {"messages": [{"role": "user", "content": "无回答"}]}]
    with pytest.raises(DataValidationError) as err:
        read_responses(_write(tmp_path, bad))
    lines = sorted(i.line for i in err.value.issues)
    assert lines == [3, 4] and "fits no known shape" in str(err.value.issues[0])


def test_prompts_in_any_shape(tmp_path):
    rows = [{"instruction": "第一"}, {"question": "第二", "id": "q2"}, {"query": "第三"},
            {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "第四"}]},
            {"prompt": "第五", "response": "有回答也行"}, {"id": "e6", "prompt": "第六", "kind": "benign"}]
    items, shapes = read_prompts(_write(tmp_path, rows))
    assert [i.prompt for i in items] == ["第一", "第二", "第三", "第四", "第五", "第六"]
    assert shapes == {"flat": 4, "openai": 1, "celm": 1} and items[1].id == "q2" and items[5].kind == "benign"


def test_judge_score_cli_takes_people_s_files(tmp_path):
    from typer.testing import CliRunner

    from celm.cli.main import app

    out = tmp_path / "j.jsonl"
    result = CliRunner().invoke(app, ["judge", "score", "-i", str(_write(tmp_path, ROWS)), "-o", str(out), "-j", "keyword"])
    assert result.exit_code == 0, result.output
    assert "shapes" in result.output and "sharegpt 1" in result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(ROWS)
