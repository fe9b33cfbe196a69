"""Loaders for public Chinese safety datasets, registered by name.

``load_source("jade-v3")`` reads ``$CELM_SHARED_DATA/jade/...`` (default ``../shared/data``);
``load_source("jade-v3", path)`` reads a file or folder you name, and where the publisher also put the
files on the Hugging Face hub, ``load_source("cold-dev", "hf://thu-coai/cold")`` fetches them there
(the same loader reads them). Each module documents how the
source's categories map onto the 17 CELM scenarios; what does not map keeps ``scenario=None`` and
its original category in ``provenance.original_category``.
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import Record
from celm.data.sources._common import shared_data_dir
from celm.registry import Registry

SOURCES: Registry = Registry("source")
_LOADERS = "celm.data.sources"
SOURCES.register("celm-bench", "celm.data.bundled:load_benchmark", "bundled CELM red-teaming benchmark (EvalItem)")
SOURCES.register("celm-sft", "celm.data.bundled:load_sft_examples", "bundled SFT examples (SFTExample)")
SOURCES.register("celm-pairs", "celm.data.bundled:load_preference_pairs", "bundled preference pairs (PreferencePair)")
SOURCES.register("celm-judge", "celm.data.bundled:load_judge_examples", "bundled labelled responses (JudgeExample)")
SOURCES.register("celm-posts", "celm.data.bundled:load_platform_posts", "bundled platform posts: ads for the China-centric trades and look-alikes that are not (JudgeExample, no request)")
SOURCES.register("celm-redteam", f"{_LOADERS}.celm_redteam:load", "the project's own Chinese red-teaming prompts for labelling batches, mostly bias and opinion (EvalItem)")
SOURCES.register("celm-responses", f"{_LOADERS}.real_responses:load", "real model responses labelled safe/reject/risk/irrelevant by the project (LabelledResponse; prompts joined from ../shared)")
SOURCES.register("flames", f"{_LOADERS}.flames:load", "FLAMES 1k adversarial prompts (EvalItem)")
SOURCES.register("cvalues", f"{_LOADERS}.cvalues:load", "CValues responsibility prompts (EvalItem, benign)")
SOURCES.register("safety-prompts", f"{_LOADERS}.safety_prompts:load", "Safety-Prompts augmentation templates (Instruction)")
SOURCES.register("cold-train", f"{_LOADERS}.cold:load_train", "COLD train, offensive language (JudgeExample)")
SOURCES.register("cold-train-responses", f"{_LOADERS}.cold_responses:load", "COLD train comments as answers to project-written opinion requests (JudgeExample)")
SOURCES.register("cold-dev", f"{_LOADERS}.cold:load_dev", "COLD dev (JudgeExample)")
SOURCES.register("jade-v1", f"{_LOADERS}.jade:load_v1", "JADE 1.0 questions (EvalItem)")
SOURCES.register("jade-v2-easy", f"{_LOADERS}.jade:load_v2_easy", "JADE 2.0 easy questions (EvalItem)")
SOURCES.register("jade-v2-medium", f"{_LOADERS}.jade:load_v2_medium", "JADE 2.0 medium questions (EvalItem)")
SOURCES.register("jade-v3", f"{_LOADERS}.jade:load_v3", "JADE 3.0 alignment triples (PreferencePair)")
SOURCES.register("jade-v3-verdicts", f"{_LOADERS}.jade_verdicts:load", "JADE 3.0 answers as four-verdict judge examples: violating -> risk, refusal -> reject, else safe (JudgeExample)")
SOURCES.register("xsafety", f"{_LOADERS}.xsafety:load", "XSafety Chinese prompts, 14 categories (EvalItem)")
SOURCES.register("safetybench", f"{_LOADERS}.safetybench:load", "SafetyBench zh subset (MultipleChoiceItem)")
SOURCES.register("alpaca-zh-demo", f"{_LOADERS}.llamafactory_demo:load_alpaca", "LLaMA-Factory alpaca_zh_demo (SFTExample)")
SOURCES.register("dpo-zh-demo", f"{_LOADERS}.llamafactory_demo:load_dpo", "LLaMA-Factory dpo_zh_demo (PreferencePair)")

_BUNDLED = {"celm-bench", "celm-redteam", "celm-sft", "celm-pairs", "celm-judge", "celm-posts"}


def load_source(name: str, path: str | Path | None = None) -> list[Record]:
    """Load a registered source; ``path`` overrides the default location of its files."""
    loader = SOURCES.get(name)
    return loader() if name in _BUNDLED else loader(path)


def load_file_or_source(spec: str | Path, *, base_dir: Path | None = None, reader=None) -> list:
    """The one answer to "is this a file or a source name?": an existing file (relative paths from
    ``base_dir``) is read with ``reader`` (default: celm records); otherwise ``spec`` must be a
    registered source. Anything else is a clear error naming both."""
    path = Path(spec)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if path.exists():
        if reader is None:
            from celm.data.io import read_records

            reader = read_records
        return reader(path)
    if str(spec) in SOURCES:
        return load_source(str(spec))
    import difflib

    close = difflib.get_close_matches(str(spec), SOURCES.names(), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise FileNotFoundError(f"{spec}: no such file, and unknown source{hint} (known sources: {', '.join(SOURCES.names())})")


__all__ = ["SOURCES", "load_file_or_source", "load_source", "shared_data_dir"]
