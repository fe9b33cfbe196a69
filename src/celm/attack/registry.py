"""Attack strategies by name. Adding one means adding one module and one line here."""

from __future__ import annotations

import random

from celm.attack.base import Strategy, Transformed, parse_part, split_spec
from celm.registry import Registry

STRATEGIES: Registry = Registry("attack strategy")
_S = "celm.attack."
# Chinese: what people who red-team Chinese models reach for
STRATEGIES.register("homophone", _S + "homophone:Homophone", "谐音字: sensitive words written with homophones (赌博 -> 堵搏)")
STRATEGIES.register("pinyin", _S + "pinyin:Pinyin", "拼音: sensitive words in pinyin, full or initials (?mode=initials: 赌博 -> db)")
STRATEGIES.register("split_chars", _S + "split_chars:SplitChars", "拆字: characters written as their parts (骗 -> 马扁)")
STRATEGIES.register("traditional", _S + "traditional:Traditional", "繁体: the prompt in traditional characters (?variant=tw|hk)")
STRATEGIES.register("separator", _S + "separator:Separator", "分隔符: symbols inside sensitive words (赌*博, 毒 品; ?sep=*)")
STRATEGIES.register("slang", _S + "slang:Slang", "黑话/缩写: the trades' own slang (赌博 -> 菠菜, 自杀 -> 紫砂)")
STRATEGIES.register("code_mix", _S + "code_mix:CodeMix", "中英混杂: sensitive words and verbs in English")
STRATEGIES.register("rephrase", _S + "rephrase:Rephrase", "文言/方言: rephrased by a model (?style=classical|cantonese&model=SPEC)")
# general
STRATEGIES.register("injection", _S + "injection:Injection", "the paper's five injection families (?family=role_play&template=grandma)")
STRATEGIES.register("framing", _S + "framing:Framing", "fiction / role-play / academic framing (?frame=fiction|role_play|academic)")
STRATEGIES.register("payload_split", _S + "payload_split:PayloadSplit", "payload splitting: the request cut into variables a and b, joined by the model")
STRATEGIES.register("completion", _S + "completion:Completion", "续写: the answer's first words given, the model asked to continue")
STRATEGIES.register("few_shot", _S + "few_shot:FewShot", "few-shot harmful demonstrations (in-context attack)")
STRATEGIES.register("encoding", _S + "encoding:Encoding", "encodings: Base64 or Caesar (?scheme=base64|caesar&shift=3)")
STRATEGIES.register("refusal_suppression", _S + "refusal_suppression:RefusalSuppression", "refusal suppression: rules that forbid refusing")
STRATEGIES.register("crescendo", _S + "crescendo:Crescendo", "multi-turn escalation: an attacker model writes each next turn "
                    "(?turns=3&attacker=SPEC)")


def get_strategy(spec: str) -> Strategy:
    """The strategy (or left-to-right chain of strategies) a spec names."""
    parts = split_spec(spec)
    built = []
    for part in parts:
        name, options = parse_part(part)
        built.append(STRATEGIES.get(name)(**options))
    if len(built) == 1:
        return built[0]
    if any(s.multi_turn for s in built):
        raise ValueError(f"{spec!r}: a multi-turn strategy ({', '.join(s.name for s in built if s.multi_turn)}) "
                         "stands alone, not in a chain")
    return Chain(built)


class Chain(Strategy):
    """Strategies applied left to right: ``homophone+separator`` writes homophones, then separates them."""

    name = "chain"
    family = "chain"

    def __init__(self, parts: list[Strategy]):
        self.parts = parts

    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        steps = []
        for s in self.parts:
            out = s.transform(prompt, rng)
            steps.append({"strategy": s.name, **out.details})
            prompt = out.text
        return Transformed(prompt, {"chain": steps})

    def transform_many(self, prompts: list[str], rngs: list[random.Random]) -> list[Transformed]:
        steps: list[list[dict]] = [[] for _ in prompts]
        for s in self.parts:
            outs = s.transform_many(prompts, rngs)
            for k, out in enumerate(outs):
                steps[k].append({"strategy": s.name, **out.details})
            prompts = [o.text for o in outs]
        return [Transformed(p, {"chain": st}) for p, st in zip(prompts, steps)]
