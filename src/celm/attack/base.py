"""What an attack strategy is, how a spec names a chain of them, and how one turns an item into its attacked twin.

A strategy is a seeded, deterministic transform of a prompt (``transform``), or, for a multi-turn
strategy, a conversation with the target (celm.attack.crescendo). A spec names one strategy or a chain
applied left to right: ``homophone``, ``pinyin?mode=initials``, ``homophone+separator?sep=*``.

Every attacked item keeps the original prompt beside the transformed one (``provenance.details``), so a
reader, a judge or a test can always check what was really asked.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from celm.data.records import EvalItem

#: provenance.method prefix of every attacked item: ``attack:SPEC``
METHOD_PREFIX = "attack:"


@dataclass
class Transformed:
    """A transformed prompt and what the transform did (keywords replaced, template used...)."""

    text: str
    details: dict[str, Any] = field(default_factory=dict)


class Strategy(ABC):
    """One attack strategy. Subclasses give ``name``, ``family``, ``summary`` (class keywords) and override ``transform``
    (single turn) or set ``multi_turn`` and implement a conversation (celm.attack.crescendo)."""

    name: ClassVar[str] = ""
    #: chinese (transforms Chinese users reach for), injection (the paper's five families), framing,
    #: obfuscation (encodings and splitting), multi_turn
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    multi_turn: ClassVar[bool] = False

    def __init_subclass__(cls, name: str = "", family: str = "", summary: str = "", **kwargs: Any):
        """``class Slang(Strategy, name="slang", family="chinese", summary="黑话: ...")``: the three
        class attributes every strategy sets, said in its class line."""
        super().__init_subclass__(**kwargs)
        cls.name = name or cls.name
        cls.family = family or cls.family
        cls.summary = summary or cls.summary

    def __init__(self, **options: str):
        if options:
            raise ValueError(f"attack strategy {self.name!r} takes no option {sorted(options)[0]!r}")

    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        raise NotImplementedError(f"{self.name} is a multi-turn strategy: run it with celm.attack.run")

    def transform_many(self, prompts: list[str], rngs: list[random.Random]) -> list[Transformed]:
        """Many prompts at once (a strategy that asks a model overrides this to batch)."""
        return [self.transform(p, r) for p, r in zip(prompts, rngs)]


def option(options: dict[str, str], key: str, default: str, allowed: tuple[str, ...] | None = None) -> str:
    """Pop one option, checking it against the allowed values."""
    value = options.pop(key, default)
    if allowed and value not in allowed:
        raise ValueError(f"option {key}={value!r}: one of {', '.join(allowed)}")
    return value


def parse_part(part: str) -> tuple[str, dict[str, str]]:
    """``'pinyin?mode=initials'`` -> ``('pinyin', {'mode': 'initials'})``."""
    name, _, query = part.strip().partition("?")
    return name.strip(), dict(parse_qsl(query, keep_blank_values=True))


def split_spec(spec: str) -> list[str]:
    """``'homophone+separator?sep=*'`` -> ``['homophone', 'separator?sep=*']``. A spec list on the
    command line is comma-separated; ``+`` chains strategies inside one spec."""
    parts = [p.strip() for p in spec.split("+")]
    if not spec.strip() or not all(parts):
        raise ValueError(f"empty attack strategy in {spec!r}")
    return parts


def rng_for(seed: int, item_id: str, spec: str) -> random.Random:
    """A random stream for one (item, spec): the same whatever else is attacked, in whatever order."""
    digest = hashlib.sha256(f"{seed}|{item_id}|{spec}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def slug(spec: str) -> str:
    """A spec as a piece of an item id: ``pinyin?mode=initials`` -> ``pinyin-mode-initials``."""
    return "".join(c if c.isalnum() or c in "_+." else "-" for c in spec).strip("-")


def attacked_id(item_id: str, spec: str) -> str:
    return f"{item_id}@{slug(spec)}"


def attacked_item(item: EvalItem, spec: str, transformed: Transformed, messages: list[dict] | None = None) -> EvalItem:
    """The item under attack: a new id, the transformed prompt, ``tactic`` = the spec, and the original
    prompt, its id and what the transform did in provenance."""
    prov = item.provenance.model_copy(update={
        "method": f"{METHOD_PREFIX}{spec}",
        "details": {**item.provenance.details, "original_id": item.id, "original_prompt": item.prompt,
                    "original_tactic": item.tactic, "attack": spec, "attack_details": transformed.details,
                    # a transform that finds nothing to change (slang on a prompt with no slang word) is no attack
                    "changed": transformed.text != item.prompt or messages is not None}})
    update: dict[str, Any] = {"id": attacked_id(item.id, spec), "prompt": transformed.text, "tactic": spec,
                              "provenance": prov}
    if messages is not None:
        update["messages"] = messages
    # validated, so a conversation that does not end with its prompt fails here, not in a later reader
    return type(item).model_validate({**item.model_dump(), **update, "provenance": prov.model_dump()})
