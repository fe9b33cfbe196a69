"""Safety judges: c(x) of the paper. ``get_judge("builtin")`` is the fast CPU default.

Specs: ``builtin`` (shipped weights), ``builtin:fourway-v4`` (the previous release's), ``builtin:PATH``
(weights you trained), ``builtin?mode=fast``, ``llm:MODEL_SPEC`` (any model backend with the appendix
A.1 rubric), ``hf-classifier:PATH``, ``keyword`` (refusal patterns and risk keywords only; a baseline),
``guard:PRESET:MODEL_SPEC`` (a guard model with its own prompt and output format: ``qwen3guard``,
``llamaguard3``, ``shieldlm``), ``probe`` / ``probe:PATH`` (four verdicts from a chat model's hidden
states: slower, reads meaning).

Rooms:

- :mod:`.models`: one module per judge kind, registered by name (:data:`JUDGES`), and the one reader
  of weights files (:mod:`.models.weights`);
- :mod:`.training`: ``train_judge(JudgeTrainConfig)`` and one module per recipe (:data:`.training.TRAINERS`);
- :mod:`.features`: what the judges read (n-grams, pair features, embeddings);
- :mod:`.rules`: the verdict rules and the cue detectors (refusal, promotion).

At the top: :mod:`.base` (the ``Judge`` interface), :mod:`.score` (judging responses in batches),
:mod:`.calibrate` (a judge against people), :mod:`.measured` (its recorded error on real responses)
and :mod:`.ranks` (the A.1 rating scale read as a verdict).
"""

from __future__ import annotations

from celm.judge.base import Judge, Judgement
from celm.judge.models import JUDGES
from celm.models.registry import check_options, nested_target, parse_spec

DEFAULT_JUDGE = "builtin"
#: judges whose target is a whole model spec: ``llm:MODEL_SPEC``, ``guard:PRESET:MODEL_SPEC``
TAKES_MODEL_SPEC = ("llm", "guard")
#: what a judge spec may be, for every option that takes one
JUDGE_HELP = (f"judge spec: {DEFAULT_JUDGE} (default), builtin:fourway-v4 (previous weights), builtin:PATH, builtin?mode=fast|full|cascade, "
              "probe, probe:PATH, llm:MODEL_SPEC, guard:qwen3guard|llamaguard3|shieldlm:MODEL_SPEC, hf-classifier:PATH, keyword")


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
