"""The chat template celm gives base models that have none.

It is the hf backend's plain dialogue frame (``celm.models.hf.PLAIN_TEMPLATE``) written as a chat
template, so a model trained with it is prompted at evaluation time exactly as it was trained. The
``{% generation %}`` markers let TRL compute the loss on the assistant's words only.
"""

from __future__ import annotations

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


def ensure_chat_template(tokenizer, *, need_generation_markers: bool = False) -> bool:
    """Give ``tokenizer`` celm's template when it has none (or lacks markers we need); True if changed."""
    current = getattr(tokenizer, "chat_template", None)
    if current and (not need_generation_markers or "{% generation %}" in current):
        return False
    tokenizer.chat_template = CELM_CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return True
