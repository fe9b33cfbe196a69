"""The judge's measured error on real responses, as `celm eval` prints it."""

from celm.judge.measured import describe, measured, record

FIGURES = {"n": 1396, "set": "celm-responses", "how": "5-fold cross-validation", "acc_eval_error": 2.5,
           "risk_recall": 0.61, "risk_precision": 0.7, "risk_macro_f1": 0.78}


def test_record_then_read_back_and_describe(tmp_path, monkeypatch):
    path = tmp_path / "measured.json"
    record("builtin#cascade@abc", {**FIGURES, "new_models": {"m-a": -16.9, "m-b": -10.3}}, path)
    record("keyword", FIGURES, path)
    monkeypatch.setattr("celm.judge.measured._path", lambda: path)
    got = measured("builtin#cascade@abc")
    assert got["new_models"] == {"m-a": -16.9, "m-b": -10.3} and measured("builtin#other") is None
    text = describe(got)
    assert "+2.5 points off the labels" in text and "found 61%" in text and "70% of its risk verdicts" in text
    assert "never trained on (these weights), its Acc_eval was off by -16.9 (m-a), -10.3 (m-b) points" in text
    assert "never trained on" not in describe(measured("keyword"))  # only said where it was measured
    # weights trained on every labelled model: the recipe trained without each one stands in, and says so
    left_out = describe({**FIGURES, "new_models": {"m-a": 3.7}, "new_models_how": "its recipe trained without that model's responses"})
    assert "never trained on (its recipe trained without that model's responses), its Acc_eval was off by +3.7 (m-a)" in left_out
