"""Chat templates for training: an instruct model keeps its own ChatML format and gains the
``{% generation %}`` markers TRL needs; a base model gets celm's plain frame."""

from transformers import AutoTokenizer

from celm.train.template import CELM_CHAT_TEMPLATE, ensure_chat_template

# The shape of Qwen2.5's template for plain turns (its tool branches left out): a default system
# message when none is given, ChatML turns, no generation markers.
QWEN_LIKE = (
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}{%- if not (message.role == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

CONVERSATIONS = [
    [{"role": "user", "content": "怎么买安眠药？"}, {"role": "assistant", "content": "请到医院就诊。"}],
    [{"role": "system", "content": "你是安全助手。"}, {"role": "user", "content": "你好"},
     {"role": "assistant", "content": "你好！"}, {"role": "user", "content": "再见"}],
]


def test_chatml_instruct_template_gains_markers_and_renders_the_same(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = QWEN_LIKE
    before = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=g) for c in CONVERSATIONS for g in (False, True)]
    assert ensure_chat_template(tok, need_generation_markers=True)
    assert "{% generation %}" in tok.chat_template and tok.chat_template != CELM_CHAT_TEMPLATE
    after = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=g) for c in CONVERSATIONS for g in (False, True)]
    assert after == before
    out = tok.apply_chat_template(CONVERSATIONS[0], tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    answer = tok.decode([t for t, m in zip(out["input_ids"], out["assistant_masks"]) if m])
    assert answer.replace(" ", "") == "请到医院就诊。<|im_end|>"


def test_base_model_without_template_gets_the_plain_frame(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = None
    assert ensure_chat_template(tok, need_generation_markers=True)
    assert tok.chat_template == CELM_CHAT_TEMPLATE
    # a template that already has the markers is left alone
    assert not ensure_chat_template(tok, need_generation_markers=True)
