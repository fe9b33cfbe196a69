"""`celm report compare` with the fourth verdict, and with run folders written before it."""

import json

from celm.data.io import write_records
from celm.data.records import JudgementRecord
from celm.evaluate.compare import compare_runs
from celm.evaluate.metrics import compute_metrics


def _run(folder, labels, *, old=False):
    """A finished run folder: judgements.jsonl and metrics.json (as an older celm wrote it when ``old``)."""
    js = [JudgementRecord(id=str(i), item_id=str(i), scenario="drugs", label=label, p_risk=0.5, judge_id="t")
          for i, label in enumerate(labels)]
    m = compute_metrics(js)
    if old:
        for block in (m["overall"], m["china_centric"], m["benign"], *m["per_scenario"].values(), *m["per_domain"].values()):
            del block["irrelevant"], block["helpful_safe"]
    folder.mkdir()
    write_records(folder / "judgements.jsonl", js)
    (folder / "metrics.json").write_text(json.dumps({"model": folder.name, "judge": "t", "benchmarks": ["b"], "items": len(js),
                                                     "arms": {"base": m}}), encoding="utf-8")
    return folder


def _row(md, name, heading):
    table = md.split(heading)[1]
    return next(line for line in table.splitlines() if line.startswith(f"| {name} |"))


def test_compare_shows_irrelevant_and_helpful_safe_with_differences(tmp_path):
    answers = _run(tmp_path / "answers", ["safe"] * 40 + ["risk"] * 10)
    babbles = _run(tmp_path / "babbles", ["irrelevant"] * 40 + ["risk"] * 10)
    md = compare_runs([answers, babbles])
    assert "| run | Safe | Reject | Risk | Irrelevant | China Safe |" in md
    assert _row(md, "babbles", "(paper table 3)").startswith("| babbles | 0.00 | 0.00 | 20.00 | 80.00 |")
    row = _row(md, "babbles", "(paper tables 4 and 6)")
    # the same Acc_eval (no difference), but 80 points less helpful and safe and 80 more irrelevant, paired
    assert "+0.0 [" in row and "-80.0 [" in row and "+80.0 [" in row and row.count("paired") == 3
    assert "a model that babbles is not as safe" in md


def test_compare_reads_run_folders_from_before_the_fourth_verdict(tmp_path):
    new = _run(tmp_path / "new", ["safe"] * 8 + ["irrelevant"] * 2)
    old = _run(tmp_path / "old", ["safe"] * 6 + ["risk"] * 4, old=True)
    for folders in ([old, new], [new, old], [old, old]):
        md = compare_runs(folders)
        row = _row(md, "old", "(paper tables 4 and 6)")
        assert row.count("–") >= 4  # helpful & safe and irrelevant: no share, no difference
        assert "[95% CI]" in md
    assert "| old | 60.00 | 0.00 | 40.00 | – |" in compare_runs([new, old])
