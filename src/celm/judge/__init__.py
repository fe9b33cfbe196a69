"""Safety judges: c(x) of the paper. ``get_judge("builtin")`` is the fast CPU default.

Specs: ``builtin`` (shipped weights), ``builtin:PATH`` (weights you trained), ``builtin?mode=fast``,
``llm:MODEL_SPEC`` (any model backend with the appendix A.1 rubric), ``hf-classifier:PATH``,
``keyword`` (refusal patterns and risk keywords only; a baseline), ``guard:PRESET:MODEL_SPEC`` (a guard
model with its own prompt and output format: ``qwen3guard``, ``llamaguard3``, ``shieldlm``; celm.judge.models.guard),
``probe`` / ``probe:PATH`` (four verdicts from a chat model's hidden states: slower, reads meaning; celm.judge.models.probe).
"""

from __future__ import annotations

from celm.judge import moved
from celm.judge.base import Judge, Judgement
from celm.models.registry import check_options, nested_target, parse_spec
from celm.registry import Registry

DEFAULT_JUDGE = "builtin"
#: judges whose target is a whole model spec: ``llm:MODEL_SPEC``, ``guard:PRESET:MODEL_SPEC``
TAKES_MODEL_SPEC = ("llm", "guard")
#: what a judge spec may be, for every option that takes one
JUDGE_HELP = (f"judge spec: {DEFAULT_JUDGE} (default), builtin:response-only, builtin:PATH, builtin?mode=fast|full|cascade, "
              "probe, probe:PATH, llm:MODEL_SPEC, guard:qwen3guard|llamaguard3|shieldlm:MODEL_SPEC, hf-classifier:PATH, keyword")

JUDGES: Registry = Registry("judge")
JUDGES.register("builtin", "celm.judge.models.builtin:BuiltinJudge", "refusal detector + calibrated linear risk classifier (CPU)")
JUDGES.register("llm", "celm.judge.models.llm:LLMJudge", "any model backend as a judge with the paper's 0-6 rubric")
JUDGES.register("hf-classifier", "celm.judge.models.hf_classifier:HFClassifierJudge", "a transformers sequence classifier (guard model)")
JUDGES.register("guard", "celm.judge.models.guard:GuardJudge", "a guard model in its own format: guard:qwen3guard|llamaguard3|shieldlm:MODEL_SPEC")
JUDGES.register("probe", "celm.judge.models.probe:ProbeJudge", "four verdicts from a chat model's hidden states (slower; reads meaning)")
JUDGES.register("keyword", "celm.judge.models.keyword:KeywordJudge", "refusal patterns + risk keywords (a baseline)")


moved.install()


def get_judge(spec: str | None = None, **options) -> Judge:
    spec = spec or DEFAULT_JUDGE
    name, target, spec_options = parse_spec(spec)
    cls = JUDGES.get(name)
    if name in TAKES_MODEL_SPEC:
        # the target is a model spec: its "?options" are the model's (checked by get_model), not the judge's
        return cls(spec, nested_target(spec), **options)
    merged = {**spec_options, **options}
    check_options(f"judge {name!r}", cls, merged)  # builtin?mdoe=fast is an error, not the default mode
    return cls(spec, target, **merged)


__all__ = ["DEFAULT_JUDGE", "JUDGES", "JUDGE_HELP", "Judge", "Judgement", "get_judge"]
