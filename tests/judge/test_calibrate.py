import numpy as np

from celm.data.records import JudgeExample, Provenance
from celm.judge.base import Judge, Judgement
from celm.judge.calibrate import CalibrationReport, calibrate, corrected_acc_eval, correction_misfit


class Oracle(Judge):
    """Returns a fixed label per response text (so the metrics have known answers)."""

    judge_id = "oracle"

    def __init__(self, mapping):
        self.mapping = mapping

    def judge_many(self, instructions, responses):
        return [Judgement(label=self.mapping[r], p_risk=0.9 if self.mapping[r] == "risk" else 0.1, judge_id="oracle")
                for r in responses]


def _ex(i, label, scenario="drugs"):
    return JudgeExample(id=str(i), response=f"r{i}", label=label, scenario=scenario, provenance=Provenance(source="t"))


def test_known_confusion():
    # 10 risk: judge catches 8; 10 safe: judge flags 1; 5 reject all right
    labelled = [_ex(i, "risk") for i in range(10)] + [_ex(10 + i, "safe") for i in range(10)] + [_ex(20 + i, "reject") for i in range(5)]
    mapping = {f"r{i}": "risk" if i < 8 else "safe" for i in range(10)}
    mapping |= {f"r{10 + i}": "risk" if i == 0 else "safe" for i in range(10)}
    mapping |= {f"r{20 + i}": "reject" for i in range(5)}
    rep = calibrate(Oracle(mapping), labelled)
    assert rep.sensitivity == 0.8 and rep.specificity == round(14 / 15, 4)
    assert rep.confusion["risk"]["safe"] == 2 and rep.confusion["safe"]["risk"] == 1
    assert rep.human_acc_eval == 0.6 and rep.judge_acc_eval == 0.64 and round(rep.acc_eval_error, 2) == 0.04
    assert rep.accuracy == round(22 / 25, 4)
    assert "Too few labels" in rep.to_markdown()


def test_correction_recovers_truth_and_covers_it():
    rng = np.random.default_rng(1)
    se, sp, true_acc, n = 0.6, 0.98, 0.7, 2000
    cal = CalibrationReport(judge_id="j", n=600, accuracy=0, macro_f1=0, kappa=0, confusion={}, sensitivity=se,
                            specificity=sp, binary_macro_f1=0, n_risk=300, n_not_risk=300, human_acc_eval=0, judge_acc_eval=0)
    covered = 0
    for trial in range(40):
        truth_risk = rng.random(n) < 1 - true_acc
        judged_risk = np.where(truth_risk, rng.random(n) < se, rng.random(n) < 1 - sp)
        observed = 1 - judged_risk.mean()
        est, lo, hi = corrected_acc_eval(observed, n, cal, n_boot=1000, seed=trial)
        assert lo <= est <= hi
        covered += lo <= true_acc <= hi
        if trial == 0:
            assert abs(observed - true_acc) > 0.05  # the raw figure is biased...
            assert abs(est - true_acc) < 0.04  # ...the corrected one is not
    assert covered >= 35  # ~95% coverage


def test_a_calibration_that_cannot_fit_the_run_gives_no_estimate():
    """Calibrated on one model, applied to another that the judge flags less often than it falsely
    flagged harmless responses in the calibration: no true risk rate fits, so no corrected figure
    (the clipped estimate would be 100% with a zero-width interval)."""
    from celm.evaluate.metrics import compute_metrics
    from celm.evaluate.stats import format_share

    cal = CalibrationReport(judge_id="j", n=170, accuracy=0, macro_f1=0, kappa=0, confusion={}, sensitivity=0.67,
                            specificity=0.76, binary_macro_f1=0, n_risk=27, n_not_risk=143, human_acc_eval=0, judge_acc_eval=0)
    assert "fewer than the 24.0% of harmless" in correction_misfit(0.853, cal)  # 14.7% flagged < 24% false alarms
    assert "more than the 67.0% of risky" in correction_misfit(0.2, cal)
    assert correction_misfit(0.6, cal) is None
    est, lo, hi = corrected_acc_eval(0.853, 136, cal, n_boot=500)
    assert est == hi == 1.0 and lo > 0.99  # what used to be printed as "100.0% [99.8, 100.0]" or so

    from celm.data.records import JudgementRecord

    records = [JudgementRecord(id=f"j{k}", item_id=f"i{k}", kind="attack", scenario="drugs",
                               label="risk" if k < 3 else "reject", p_risk=0.5, judge_id="j")
               for k in range(20)]  # 15% flagged
    corrected = compute_metrics(records, calibration=cal)["acc_eval_corrected"]
    assert corrected["value"] is None and "calibrate on labels of this model" in corrected["misfit"]
    assert format_share(corrected) == "–"


def _four_verdict_labels():
    # people: 5 risk, 5 safe, 5 reject, 5 irrelevant
    return [_ex(i, label) for i, label in enumerate(["risk"] * 5 + ["safe"] * 5 + ["reject"] * 5 + ["irrelevant"] * 5)]


def test_four_verdict_confusion_with_a_three_verdict_judge():
    labelled = _four_verdict_labels()
    # a three-verdict judge: right on the first three, calls every irrelevant response safe
    mapping = {f"r{i}": e.label if e.label != "irrelevant" else "safe" for i, e in enumerate(labelled)}
    rep = calibrate(Oracle(mapping), labelled)
    assert set(rep.confusion) == {"safe", "reject", "risk", "irrelevant"}
    assert all(set(row) == set(rep.confusion) for row in rep.confusion.values())
    assert rep.confusion["irrelevant"]["safe"] == 5 and all(row["irrelevant"] == 0 for row in rep.confusion.values())
    assert rep.accuracy == 0.75
    # risk vs not is untouched: irrelevant is not risk for people or judge
    assert rep.sensitivity == 1.0 and rep.specificity == 1.0 and rep.human_acc_eval == rep.judge_acc_eval == 0.75
    md = rep.to_markdown()
    assert "| | safe | reject | risk | irrelevant |\n|---|---|---|---|---|" in md
    assert "| irrelevant | 5 | 0 | 0 | 0 |" in md and "never says irrelevant" in md


def test_four_verdict_judge_and_three_verdict_data():
    labelled = _four_verdict_labels()
    rep = calibrate(Oracle({f"r{i}": e.label for i, e in enumerate(labelled)}), labelled)
    assert rep.confusion["irrelevant"]["irrelevant"] == 5 and rep.accuracy == 1.0 and rep.macro_f1 == 1.0 and rep.kappa == 1.0
    assert "never says irrelevant" not in rep.to_markdown()
    # labels and judge both without irrelevant: macro-F1 over the three verdicts in use, not dragged down by a fourth
    three = labelled[:15]
    assert calibrate(Oracle({f"r{i}": e.label for i, e in enumerate(three)}), three).macro_f1 == 1.0
