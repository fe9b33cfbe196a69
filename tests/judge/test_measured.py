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
    assert "sources it was trained on (these weights), its Acc_eval was off by -16.9 (m-a), -10.3 (m-b) points" in text
    assert "new responses" not in describe(measured("keyword"))  # only said where it was measured
    # weights trained on every labelled model: the recipe trained without each one stands in, and says so
    left_out = describe({**FIGURES, "new_models": {"m-a": 3.7}, "new_models_how": "its recipe trained without that model's responses"})
    assert "trained on (its recipe trained without that model's responses), its Acc_eval was off by +3.7 (m-a)" in left_out


LOSO = {"recipe": "v5", "mode": "cascade", "mean_abs_acc_eval_error": 6.4, "worst_acc_eval_error": 11.2,
        "worst_error_source": "flames", "worst_cell": "flames / m-a", "worst_cell_error": 14.0, "mean_risk_macro_f1": 0.66,
        "worst_source": "xsafety", "worst_risk_macro_f1": 0.55,
        "sources": {"flames": {"n": 149, "risk_recall": 0.4, "risk_macro_f1": 0.6},
                    "xsafety": {"n": 118, "risk_recall": 0.2, "risk_macro_f1": 0.55}}}


def test_the_held_out_source_figure_leads_and_the_in_distribution_one_is_labelled():
    text = describe({**FIGURES, "loso": LOSO})
    # what a new benchmark should expect comes first, with the worst source, and what it was measured on
    assert text.startswith("on prompt sources it was never trained on (leave-one-source-out over 2 sources, 267 real")
    assert "6.4 points off the labels on average and +11.2 on the worst source (flames)" in text
    assert "+14.0 for the worst model on one source (flames / m-a)" in text
    assert "0.55 on the worst source (xsafety, where it found 20% of the risky responses)" in text
    # the cross-validated figure is still there, but says it is in distribution and comes after
    assert text.index("in distribution") > text.index("worst source") and "+2.5 points off" in text


def test_the_baselines_of_the_same_run_are_named_and_fast_mode_says_what_it_is():
    loso = {**LOSO, "mode": "fast", "baselines": {"keyword": {"mean_risk_macro_f1": 0.61, "worst_source": "xsafety",
                                                               "worst_risk_macro_f1": 0.48}}}
    text = describe({**FIGURES, "loso": loso})
    assert "the keyword baseline 0.61 on average (0.48 on xsafety)" in text
    assert "lexical model, the `fast` mode" in text and "keyword" not in describe({**FIGURES, "loso": LOSO})


def test_a_later_batch_is_named_as_a_fresh_check():
    fresh = {"n": 240, "batches": ["bias"], "models": ["m"], "mean_abs_acc_eval_error": 9.8, "worst_error_source": "flames",
             "worst_acc_eval_error": -17.4, "mean_risk_macro_f1": 0.554}
    text = describe({**FIGURES, "loso": LOSO, "fresh": fresh})
    assert "On 240 responses labelled later (bias batch), it was 9.8 points off on average and -17.4 on flames" in text
    assert text.index("labelled later") < text.index("in distribution")
