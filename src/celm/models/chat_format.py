"""How a request becomes the text a local model continues: its tokenizer's chat template, or a plain
dialogue frame for base models. The hf and ct2 backends share it, so both engines see the very
same prompt and the same stop strings for a given tokenizer.
"""

from __future__ import annotations

from celm.models.base import GenerationParams, GenerationRequest

#: Completion template for base models without a chat template: a dialogue frame that a base
#: model continues as the assistant; generation stops when it starts the next user turn.
PLAIN_TEMPLATE = "以下是一段用户与智能助手的对话。助手会认真、详细地用中文回答用户的问题。\n\n{system}用户：{prompt}\n助手："
PLAIN_STOP = ("\n用户：", "\n用户:")


def truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes")


class PromptFormat:
    """``template``: auto (the tokenizer's chat template when it has one) | chat | plain."""

    def __init__(self, tokenizer, *, template: str = "auto", plain_template: str = PLAIN_TEMPLATE,
                 stop_on_turn: bool = True):
        self.tokenizer = tokenizer
        self.plain_template = plain_template
        self.stop_on_turn = stop_on_turn
        chat_template = getattr(tokenizer, "chat_template", None) or ""
        self.use_chat = template == "chat" or (template == "auto" and bool(chat_template))
        # Models celm trained from a base model carry the plain frame as their chat template
        # (celm.train.template); they get the same end-of-turn stops as the plain template.
        self.plain_frame_chat = self.use_chat and PLAIN_TEMPLATE.split("\n")[0] in chat_template

    @property
    def mode(self) -> str:
        """What of the format changes outputs (part of every backend's cache identity)."""
        return "chat" if self.use_chat else f"plain:{self.plain_template}"

    @property
    def add_special_tokens(self) -> bool:
        """A chat template writes its own special tokens; a plain frame gets the tokenizer's."""
        return not self.use_chat

    def render(self, request: GenerationRequest) -> str:
        messages = [m.model_dump() for m in request.messages]
        if self.use_chat:
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        system = "".join(m["content"] + "\n\n" for m in messages if m["role"] == "system")
        turns = [m for m in messages if m["role"] != "system"]
        history = "".join(f"用户：{m['content']}\n" if m["role"] == "user" else f"助手：{m['content']}\n" for m in turns[:-1])
        return self.plain_template.format(system=system + history, prompt=turns[-1]["content"] if turns else "")

    def stops(self, params: GenerationParams) -> tuple[str, ...]:
        turn = self.stop_on_turn and (not self.use_chat or self.plain_frame_chat)
        return tuple(params.stop) + (PLAIN_STOP if turn else ())
