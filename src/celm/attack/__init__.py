"""Attack strategies (红队攻击策略): registered, composable, seeded transforms of a prompt, and multi-turn
escalation, chosen by spec string (``homophone``, ``pinyin?mode=initials``, ``homophone+separator``).

Curation's ``inject`` stage and ``celm attack`` share this one set (docs/attack.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from celm.attack.base import METHOD_PREFIX, Strategy, Transformed, attacked_id, attacked_item, rng_for, split_spec
from celm.attack.registry import STRATEGIES, get_strategy
from celm.data.records import EvalItem

__all__ = ["METHOD_PREFIX", "STRATEGIES", "Strategy", "Transformed", "apply_attack", "attacked_id", "get_strategy",
           "parse_strategies", "transform_prompt"]


def parse_strategies(values: Sequence[str]) -> list[str]:
    """Strategy specs from options that may each hold several, comma-separated; each one checked."""
    specs = [s.strip() for v in values for s in v.split(",") if s.strip()]
    for s in specs:
        get_strategy(s)
    if len(set(specs)) != len(specs):
        raise ValueError("a strategy is named twice")
    return specs


def transform_prompt(prompt: str, spec: str, *, seed: int = 0, key: str = "") -> Transformed:
    """One prompt under a single-turn strategy spec (``key`` names it in the seed, e.g. its item id)."""
    strategy = get_strategy(spec)
    return strategy.transform_many([prompt], [rng_for(seed, key, spec)])[0]


def apply_attack(items: Sequence[EvalItem], spec: str, *, seed: int = 0, target=None, params=None,
                 system_prompt: str | None = None, cache=None) -> list[EvalItem]:
    """``items`` under a strategy spec: each an attacked twin whose ``tactic`` is the spec and whose
    provenance keeps the original prompt. A multi-turn strategy needs the ``target`` backend (its
    conversation is held with it); its items carry the conversation in ``messages``."""
    strategy = get_strategy(spec)
    if strategy.multi_turn:
        if target is None:
            raise ValueError(f"{spec}: a multi-turn strategy needs the target model")
        outs = strategy.converse([i.prompt for i in items], target, params=params, system_prompt=system_prompt, cache=cache)
        return [attacked_item(i, spec, Transformed(o.text, {k: v for k, v in o.details.items() if k != "messages"}),
                              messages=o.details["messages"]) for i, o in zip(items, outs)]
    outs = strategy.transform_many([i.prompt for i in items], [rng_for(seed, i.id, spec) for i in items])
    return [attacked_item(i, spec, o) for i, o in zip(items, outs)]
