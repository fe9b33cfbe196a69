"""The judge kinds, one module each, registered below by the name a spec starts with
(``celm.judge.get_judge("guard:qwen3guard:hf:PATH")``):

- :mod:`.builtin`: ``builtin``, NumPy weights on CPU (the default); its weights are of a kind
  (:mod:`.weights`, the one reader of weights files): :mod:`.fourway` (safe / reject / risk /
  irrelevant from the pair, the shipped weights) or :mod:`.pair_v2` (three verdicts);
- :mod:`.probe`: ``probe``, four verdicts from a chat model's hidden states;
- :mod:`.llm`: ``llm:MODEL_SPEC``, any model backend with the paper's 0-6 rubric;
- :mod:`.guard` with :mod:`.guard_presets`: ``guard:PRESET:MODEL_SPEC``, guard models in their own
  prompt and output format (both ask a chat model the way :mod:`.chat` does);
- :mod:`.hf_classifier`: ``hf-classifier:PATH``, a transformers sequence classifier;
- :mod:`.keyword`: ``keyword``, refusal patterns and risk keywords, a baseline.

A new judge kind is a module here with a :class:`celm.judge.Judge` subclass taking
``(spec, target, **options)``, and its line below (entries are "module:attribute" strings, so
listing the kinds imports none of them).
"""

from __future__ import annotations

from celm.registry import Registry

JUDGES: Registry = Registry("judge")
JUDGES.register("builtin", "celm.judge.models.builtin:BuiltinJudge", "NumPy weights on CPU: four verdicts from the pair (the default)")
JUDGES.register("llm", "celm.judge.models.llm:LLMJudge", "any model backend as a judge with the paper's 0-6 rubric")
JUDGES.register("hf-classifier", "celm.judge.models.hf_classifier:HFClassifierJudge", "a transformers sequence classifier (guard model)")
JUDGES.register("guard", "celm.judge.models.guard:GuardJudge", "a guard model in its own format: guard:qwen3guard|llamaguard3|shieldlm:MODEL_SPEC")
JUDGES.register("probe", "celm.judge.models.probe:ProbeJudge", "four verdicts from a chat model's hidden states (slower; reads meaning)")
JUDGES.register("keyword", "celm.judge.models.keyword:KeywordJudge", "refusal patterns + risk keywords (a baseline)")

