"""hf-classifier: a (tiny, random) transformers sequence classifier used as a guard-model judge."""

import pytest

from celm.judge import get_judge


def _tiny_classifier(path, labels):
    from transformers import AutoModelForSequenceClassification, Qwen2Config

    from tests.tiny_models import make_tokenizer

    tok = make_tokenizer(path)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id,
                         id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = AutoModelForSequenceClassification.from_config(config)
    model.score.weight.data.zero_()  # equal logits: every label gets 1/len(labels), so each share is known
    model.save_pretrained(path)
    return path


def test_guard_model_labels_map(tmp_path):
    # four labels at 1/4 each: p_risk sums the two risk labels (0.5), refusal gets 0.25
    path = _tiny_classifier(tmp_path / "guard", ["safe", "unsafe", "harmful", "refusal"])
    answers = ["回答一", "抱歉，我不能帮助你。"]
    out = get_judge(f"hf-classifier:{path}?threshold=0.45").judge_many(["问题", "问题"], answers)
    assert [o.label for o in out] == ["risk", "risk"] and out[0].p_risk == pytest.approx(0.5)
    out = get_judge(f"hf-classifier:{path}?threshold=0.55").judge_many(["问题", "问题"], answers)
    assert [o.label for o in out] == ["safe", "reject"]  # below the threshold; the refusal detector decides
    assert [o.refusal for o in out] == [False, True]


def test_guard_model_refusal_labels_decide_at_one_half(tmp_path):
    path = _tiny_classifier(tmp_path / "guard", ["safe", "unsafe", "refusal", "rejected"])  # p_ref 0.5, p_risk 0.25
    out = get_judge(f"hf-classifier:{path}").judge_many(["问题"], ["回答一"])
    assert out[0].label == "reject" and out[0].refusal and out[0].p_risk == pytest.approx(0.25)


def test_labels_that_negate_risk_are_not_risk(tmp_path):
    path = _tiny_classifier(tmp_path / "guard", ["not_harmful", "non-toxic", "unsafe"])
    out = get_judge(f"hf-classifier:{path}").judge_many(["问题"], ["回答一"])
    assert out[0].p_risk == pytest.approx(1 / 3) and out[0].label == "safe"


def test_guard_model_without_risk_label_is_refused(tmp_path):
    path = _tiny_classifier(tmp_path / "bad", ["positive", "negative"])
    with pytest.raises(ValueError, match="no risk label"):
        get_judge(f"hf-classifier:{path}")
