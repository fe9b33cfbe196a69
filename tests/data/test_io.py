import gzip
import json

import pytest

from celm.data import DataValidationError, read_records, write_records
from celm.data.bundled import load_benchmark, load_preference_pairs
from celm.data.records import EvalItem, PreferencePair, Rating

FORMATS = ["x.jsonl", "x.jsonl.gz", "x.json", "x.parquet", "x.csv", "x_dataset"]


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_every_format(tmp_path, name):
    items = load_benchmark()[:30] + load_benchmark()[-5:]
    path = write_records(tmp_path / name, items)
    back = read_records(path)
    assert [i.model_dump() for i in back] == [i.model_dump() for i in items]


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_pairs_and_ratings(tmp_path, name):
    pairs = load_preference_pairs()[:4]
    assert read_records(write_records(tmp_path / name, pairs), PreferencePair) == pairs
    ratings = [Rating(id=f"r{i}", item_id="it", annotator=f"a{i}", score=i, comment="好") for i in range(7)]
    back = read_records(write_records(tmp_path / ("r" + name), ratings), "rating")
    assert [r.score for r in back] == list(range(7)) and back[0].time == ratings[0].time


def test_chinese_is_written_as_utf8_not_escapes(tmp_path):
    path = write_records(tmp_path / "a.jsonl", load_benchmark()[:1])
    text = path.read_text(encoding="utf-8")
    assert "\\u" not in text and load_benchmark()[0].prompt in text


def test_every_bad_row_is_reported_with_file_line_field(tmp_path):
    good = {"id": "a", "prompt": "你好", "scenario": "drugs"}
    rows = [
        json.dumps(good, ensure_ascii=False),
        json.dumps({"id": "b", "prompt": "x", "scenario": "weather"}),
        "{not json",
        json.dumps({"id": "a", "prompt": "重复"}, ensure_ascii=False),
        json.dumps({"id": "c", "prompt": ""}),
        json.dumps([1, 2]),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as exc:
        read_records(path)
    messages = [str(i) for i in exc.value.issues]
    assert f"{path}:2: scenario: unknown scenario 'weather'" in messages
    assert any(m.startswith(f"{path}:3: invalid JSON") for m in messages)
    assert f"{path}:4: id: duplicate id 'a' (first at line 1)" in messages
    assert f"{path}:5: prompt: empty text" in messages
    assert f"{path}:6: row is a list, not an object" in messages


def test_bad_utf8_and_score_out_of_range(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"id": "r1", "item_id": "i", "annotator": "a", "score": 9}\n{"id": "r2", "item_id": "\xff\xfe"}\n')
    with pytest.raises(DataValidationError) as exc:
        read_records(path, "rating")
    messages = [str(i) for i in exc.value.issues]
    assert any(m.startswith(f"{path}:1: score:") for m in messages)
    assert any(m.startswith(f"{path}:2: bad UTF-8") for m in messages)


def test_chosen_equal_rejected_reported(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,instruction,chosen,rejected\np1,问,一样,一样\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"p.csv:2: chosen == rejected"):
        read_records(path)


def test_csv_excel_bom_and_gzip(tmp_path):
    items = load_benchmark()[:3]
    path = write_records(tmp_path / "e.csv", items, excel=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_records(path) == items
    gz = write_records(tmp_path / "e.jsonl.gz", items)
    assert gzip.decompress(gz.read_bytes()).decode("utf-8").count("\n") == 3


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "'=already quoted",
            "'plain", "普通文本", "a=b"]


def test_excel_csv_escapes_formula_cells_and_reads_back_the_same(tmp_path):
    """Cells starting with = + - @ (or a tab / CR before one) would run as formulas in Excel: written
    with a leading ' they show as text. Reading the file back gives the original texts."""
    import csv

    ratings = [Rating(id=f"r{k}", item_id=f"i{k}", annotator=text, score=k % 7, comment=text) for k, text in enumerate(FORMULAS)]
    path = write_records(tmp_path / "e.csv", ratings, excel=True)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row, text in zip(rows, FORMULAS):
        cell = row["comment"]
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
        assert cell == ("'" + text if text[:1] in "=+-@\t\r'" else text)
    assert [r.comment for r in read_records(path, "rating")] == FORMULAS
    assert [r.annotator for r in read_records(path, "rating")] == FORMULAS
    # a plain CSV (for programs, not Excel) keeps cells exactly as they are
    plain = write_records(tmp_path / "p.csv", ratings)
    with open(plain, encoding="utf-8", newline="") as fh:
        assert [row["comment"] for row in csv.DictReader(fh)] == FORMULAS
    assert [r.comment for r in read_records(plain, "rating")] == FORMULAS


def test_data_convert_excel_escapes_formulas(tmp_path):
    from typer.testing import CliRunner

    from celm.cli.main import app

    src = write_records(tmp_path / "r.jsonl", [Rating(id="r1", item_id="i", annotator="a", score=1, comment="=1+1")])
    r = CliRunner().invoke(app, ["data", "convert", str(src), str(tmp_path / "r.csv"), "--excel"])
    assert r.exit_code == 0, r.output
    assert ",'=1+1," in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")

def test_failed_write_leaves_nothing(tmp_path):
    items = load_benchmark()[:2]
    dup = [items[0], items[0]]
    with pytest.raises(DataValidationError, match="duplicate id"):
        write_records(tmp_path / "d.jsonl", dup)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_file_on_crash(tmp_path, monkeypatch):
    path = write_records(tmp_path / "k.jsonl", load_benchmark()[:2])
    before = path.read_bytes()

    class Boom(EvalItem):
        def model_dump(self, *a, **k):
            raise RuntimeError("disk on fire")

    bad = Boom.model_validate(load_benchmark()[3].model_dump())
    with pytest.raises(RuntimeError):
        write_records(path, [load_benchmark()[4], bad])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["k.jsonl"]
