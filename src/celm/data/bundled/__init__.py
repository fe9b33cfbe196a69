"""Data written by the celm authors and shipped in the package (no public text copied)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from celm.data.records import EvalItem, JudgeExample, PreferencePair, Provenance, SFTExample
from celm.taxonomy import get_taxonomy

BENCH_SOURCE = "celm-bench"
EXAMPLES_SOURCE = "celm-examples"


def _read_yaml(name: str):
    return yaml.safe_load(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _benchmark() -> tuple[EvalItem, ...]:
    taxonomy = get_taxonomy()
    items: list[EvalItem] = []
    for part in ("benchmark_part1.yaml", "benchmark_part2.yaml", "benchmark_part3.yaml"):
        for scenario, block in _read_yaml(part).items():
            norms = list(taxonomy.norms_for(scenario))
            for n, (tactic, prompt) in enumerate(block["attack"], start=1):
                items.append(EvalItem(
                    id=f"celm-{scenario}-a{n:02d}", prompt=prompt, kind="attack", tactic=tactic,
                    scenario=scenario, norms=norms,
                    provenance=Provenance(source=BENCH_SOURCE, source_id=f"{scenario}-a{n:02d}", method=f"expert:{tactic}"),
                ))
            for n, prompt in enumerate(block["benign"], start=1):
                items.append(EvalItem(
                    id=f"celm-{scenario}-b{n:02d}", prompt=prompt, kind="benign", tactic="benign",
                    scenario=scenario, norms=norms,
                    provenance=Provenance(source=BENCH_SOURCE, source_id=f"{scenario}-b{n:02d}", method="expert:benign"),
                ))
    return tuple(items)


def load_benchmark() -> list[EvalItem]:
    """The bundled CELM benchmark: 340 red-teaming prompts (20 per scenario) and 102 benign controls."""
    return list(_benchmark())


def _examples() -> list[dict]:
    return _read_yaml("examples.yaml")


def _prov(scenario: str, method: str) -> Provenance:
    return Provenance(source=EXAMPLES_SOURCE, source_id=scenario, method=method)


def load_sft_examples() -> list[SFTExample]:
    taxonomy = get_taxonomy()
    return [
        SFTExample(id=f"celm-sft-{e['scenario']}", instruction=e["instruction"], output=e["safe"],
                   scenario=e["scenario"], norms=list(taxonomy.norms_for(e["scenario"])), provenance=_prov(e["scenario"], "expert"))
        for e in _examples()
    ]


def load_preference_pairs() -> list[PreferencePair]:
    """Two pairs per instruction: guided answer over risky compliance, and over a bare refusal (paper table 1)."""
    taxonomy = get_taxonomy()
    pairs = []
    for e in _examples():
        norms = list(taxonomy.norms_for(e["scenario"]))
        for tag, rejected in (("risky", e["risky"]), ("refusal", e["refusal"])):
            pairs.append(PreferencePair(
                id=f"celm-pair-{e['scenario']}-{tag}", instruction=e["instruction"], chosen=e["safe"], rejected=rejected,
                scenario=e["scenario"], norms=norms, provenance=_prov(e["scenario"], f"expert:vs-{tag}"),
            ))
    return pairs


def load_judge_examples() -> list[JudgeExample]:
    out = []
    for e in _examples():
        # the guided answer stays `safe` even where it refuses first (`safe_verdict: reject`): keying
        # those three `reject` in the judge's recipe was measured and made it worse on real responses
        # (docs/judge.md, "Also tried"); the label test, which people take, follows the rubric
        for label, key in (("safe", "safe"), ("reject", "refusal"), ("risk", "risky")):
            out.append(JudgeExample(
                id=f"celm-judge-{e['scenario']}-{label}", instruction=e["instruction"], response=e[key], label=label,
                scenario=e["scenario"], provenance=_prov(e["scenario"], "expert"),
            ))
    return out


#: the taxonomy scenario each trade of the platform posts belongs to
POST_SCENARIOS = {"gambling": "gambling", "scam_job": "financial_crimes", "black_market": "illegal_financial_activities",
                  "sex": "pornography"}


def load_platform_posts() -> list[JudgeExample]:
    """Platform posts on the China-centric trades, with no request (judged on their own, as comments
    are): ads for gambling, scam jobs, black-market services and sex (risk), and posts on the same
    topics that are not ads — warnings, news, notices, lawful jobs (safe). Written for the project by
    an LLM (docs/judge.md says how); they teach the judge the trades' slang, and that naming a trade
    is not promoting it."""
    import json

    out = []
    lines = resources.files(__name__).joinpath("platform_posts.jsonl").read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        post = json.loads(line)
        scenario = POST_SCENARIOS[post["trade"]]
        out.append(JudgeExample(id=f"celm-post-{n:03d}", response=post["text"], label=post["label"], scenario=scenario,
                                provenance=Provenance(source="celm-posts", source_id=str(n), method=f"llm-written:{post['kind']}")))
    return out
