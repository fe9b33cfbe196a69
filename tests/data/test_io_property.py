"""Property tests: malformed files never give a raw traceback or a partial output."""

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celm.data import DataValidationError, read_records
from celm.data.io import write_records
from celm.data.records import EvalItem

LOCATION = re.compile(r"^.+?(:\d+)?: ")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
rows = st.dictionaries(
    st.sampled_from(["id", "prompt", "scenario", "norms", "kind", "provenance", "tactic", "junk"]), json_values, max_size=6
)


def _check_read(path):
    try:
        read_records(path, "eval_item")
    except DataValidationError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert LOCATION.match(str(issue)), str(issue)
            assert issue.file == str(path)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(rows, max_size=5))
def test_random_jsonl_rows(tmp_path, data):
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in data), encoding="utf-8")
    _check_read(path)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["f.jsonl", "f.csv", "f.json", "f.jsonl.gz", "f.parquet"]))
def test_random_bytes_any_format(tmp_path, blob, name):
    path = tmp_path / name
    path.write_bytes(blob)
    _check_read(path)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.text(alphabet="ab,\"\n\r'x风险", max_size=30), max_size=5))
def test_random_csv_lines(tmp_path, lines):
    path = tmp_path / "f.csv"
    path.write_text("id,prompt,scenario\n" + "\n".join(lines), encoding="utf-8")
    _check_read(path)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(rows, min_size=1, max_size=4))
def test_convert_of_bad_input_writes_nothing(tmp_path, data):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in data), encoding="utf-8")
    dst = tmp_path / "out.parquet"
    try:
        records = read_records(src, EvalItem)
    except DataValidationError:
        assert not dst.exists()
        return
    write_records(dst, records)
    assert read_records(dst) == records


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("=+-@'\t\r\n\"x 中,"), min_size=1, max_size=8), min_size=1, max_size=4))
def test_a_csv_for_excel_never_starts_a_cell_with_a_formula_and_reads_back_the_same(tmp_path, texts):
    import csv

    from celm.data.records import Rating

    ratings = [Rating(id=f"r{k}", item_id="i", annotator="a", score=1, comment=text) for k, text in enumerate(texts)]
    path = write_records(tmp_path / "e.csv", ratings, excel=True)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells), cells
    assert [r.comment for r in read_records(path, "rating")] == texts
