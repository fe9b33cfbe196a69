"""The chat template celm gives base models that have none.

It is the hf backend's plain dialogue frame (``celm.models.hf.PLAIN_TEMPLATE``) written as a chat
template, so a model trained with it is prompted at evaluation time exactly as it was trained. The
``{% generation %}`` markers let TRL compute the loss on the assistant's words only.
"""

from __future__ import annotations

import re

from celm.models.hf import PLAIN_TEMPLATE

_HEADER = PLAIN_TEMPLATE.split("{system}")[0]

# Newlines live inside {{ '...' }} expressions so that no whitespace control can eat them.
CELM_CHAT_TEMPLATE = (
    "{{ bos_token }}{{ " + repr(_HEADER) + " }}"
    "{% for m in messages if m.role == 'system' %}{{ m.content }}{{ '\\n\\n' }}{% endfor %}"
    "{% for m in messages if m.role != 'system' %}"
    "{% if m.role == 'user' %}{{ '用户：' + m.content + '\\n' }}"
    "{% else %}{{ '助手：' }}{% generation %}{{ m.content }}{{ eos_token }}{% endgeneration %}{{ '\\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '助手：' }}{% endif %}"
)


_CHATML_DEFAULT_SYSTEM = re.compile(r"<\|im_start\|>system\\n([^'\"<{}]+?)<\|im_end\|>")


def chatml_template(default_system: str | None) -> str:
    """ChatML (Qwen and others) with ``{% generation %}`` markers; renders exactly as the model's own
    template for plain system/user/assistant turns, including its default system message."""
    system = ("{% if messages[0].role != 'system' %}{{ '<|im_start|>system\\n' + " + repr(default_system)
              + " + '<|im_end|>\\n' }}{% endif %}") if default_system else ""
    return (
        system
        + "{% for m in messages %}"
        "{% if m.role == 'assistant' %}{{ '<|im_start|>assistant\\n' }}{% generation %}{{ m.content + '<|im_end|>' }}"
        "{% endgeneration %}{{ '\\n' }}"
        "{% else %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endif %}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )


def ensure_chat_template(tokenizer, *, need_generation_markers: bool = False) -> bool:
    """Give ``tokenizer`` celm's template when it has none (or lacks markers we need); True if changed.

    An instruct model's own ChatML template (Qwen2.5) keeps its format and gains the markers; only a
    model with no template (a base model) or an unknown one gets celm's plain dialogue frame.
    """
    current = getattr(tokenizer, "chat_template", None)
    if current and (not need_generation_markers or "{% generation %}" in current):
        return False
    if current and "<|im_start|>" in current:
        found = _CHATML_DEFAULT_SYSTEM.search(current)
        tokenizer.chat_template = chatml_template(found.group(1) if found else None)
        return True
    tokenizer.chat_template = CELM_CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return True
