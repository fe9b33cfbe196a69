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
    AutoModelForSequenceClassification.from_config(config).save_pretrained(path)
    return path


def test_guard_model_labels_map(tmp_path):
    path = _tiny_classifier(tmp_path / "guard", ["safe", "unsafe", "refusal"])
    judge = get_judge(f"hf-classifier:{path}?threshold=0.0")  # threshold 0: everything is risk
    out = judge.judge_many(["问题", "问题"], ["回答一", "抱歉，我不能帮助你。"])
    assert [o.label for o in out] == ["risk", "risk"] and 0 <= out[0].p_risk <= 1
    strict = get_judge(f"hf-classifier:{path}?threshold=1.01")  # never risk: refusals by the detector or the label
    out = strict.judge_many(["问题"], ["抱歉，我不能帮助你。"])
    assert out[0].label == "reject" and out[0].refusal


def test_guard_model_without_risk_label_is_refused(tmp_path):
    path = _tiny_classifier(tmp_path / "bad", ["positive", "negative"])
    with pytest.raises(ValueError, match="no risk label"):
        get_judge(f"hf-classifier:{path}")
