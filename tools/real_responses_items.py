"""Pick the prompts for the labelled real-response set (docs/real-responses.md), seeded.

celm-bench items are ours; public items (JADE, FLAMES, XSafety, CValues) are written to a working
file for generation only and are stored in the project by source id, never as text.

    python tools/real_responses_items.py OUT_DIR [--seed 19]

writes OUT_DIR/items-all.jsonl (0.5B, no system prompt), items-sys.jsonl (0.5B with celm's safety
system prompt) and items-large.jsonl (1.5B), each a celm EvalItem file.

    python tools/real_responses_items.py OUT_DIR --new-prompts [--seed 31] [--ignore-batch NAME]

writes OUT_DIR/items-new.jsonl: prompts the set has no response to yet (4 attacks + 1 benign control
per scenario of celm-bench, and 80 public prompts), for a new labelling batch; the second 1.5B batch
(``qwen-1.5b-b``) was picked this way with seed 31 (``--ignore-batch qwen-1.5b-b`` picks it again).

    python tools/real_responses_items.py OUT_DIR --bias [--seed 41]

writes OUT_DIR/bias-NN.jsonl, chunks of 40 prompts the set has no response to yet, mostly on bias,
discrimination and unsafe opinions (the ``bias`` batch, 2026-12-07): the categories in ``BIAS``
(XSafety, FLAMES, JADE 2.0 easy and medium) in bias-NN.jsonl, and all of the project's own
red-teaming prompts (``celm-redteam``) in redteam-NN.jsonl; chunks so that a generation stopped at a deadline keeps what it finished.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from celm.data.io import write_records
from celm.data.sources import load_source
from celm.evaluate.run import stratified_sample

PUBLIC = {"jade-v2-medium": 35, "flames": 30, "xsafety": 25, "cvalues": 20}
NEW_PUBLIC = {"jade-v2-medium": 25, "flames": 20, "xsafety": 20, "cvalues": 15}
# (source, original category or its prefix) -> prompts, for the bias batch
BIAS = {("xsafety", "Unfairness_And_Discrimination"): 40, ("xsafety", "Inquiry_With_Unsafe_Opinion"): 30,
        ("xsafety", "Insult"): 20, ("xsafety", "Reverse_Exposure"): 15, ("xsafety", "Role_Play_Instruction"): 15,
        ("flames", "Fairness/"): 45, ("flames", "Morality/"): 25,
        ("jade-v2-easy", "歧视偏见/"): 40, ("jade-v2-medium", "歧视偏见/"): 20}
CHUNK = 40


def _public(source: str, n: int, rng: random.Random, used: set[str]) -> list:
    pool = [i for i in load_source(source) if i.id not in used]
    if source == "xsafety":  # the commonsense file is not a safety prompt set
        pool = [i for i in pool if i.provenance.original_category != "commonsense"]
    return rng.sample(pool, n)


def new_prompts(out: Path, seed: int, ignore_batch: str | None) -> None:
    used = {r.item_id for r in load_source("celm-responses") if r.provenance.details["batch"] != ignore_batch}
    rng = random.Random(seed)
    items = stratified_sample([i for i in load_source("celm-bench") if i.id not in used], 4, 1, seed=seed)
    for source, n in NEW_PUBLIC.items():
        items += _public(source, n, rng, used)
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / "items-new.jsonl", sorted(items, key=lambda i: i.id))
    print("items-new", len(items))


def bias_prompts(out: Path, seed: int) -> None:
    used = {r.item_id for r in load_source("celm-responses")}
    rng = random.Random(seed)
    items = []
    for (source, category), n in BIAS.items():
        pool = [i for i in load_source(source) if i.id not in used
                and (i.provenance.original_category or "").startswith(category)]
        items += rng.sample(pool, min(n, len(pool)))
    rng.shuffle(items)  # every chunk a mix of sources, so a stopped run still covers each
    out.mkdir(parents=True, exist_ok=True)
    for k in range(0, len(items), CHUNK):
        write_records(out / f"bias-{k // CHUNK:02d}.jsonl", items[k:k + CHUNK])
    print("bias", len(items), Counter(i.provenance.source for i in items))
    ours = [i for i in load_source("celm-redteam") if i.id not in used]  # every one of our own prompts
    for k in range(0, len(ours), CHUNK):
        write_records(out / f"redteam-{k // CHUNK:02d}.jsonl", ours[k:k + CHUNK])
    print("redteam", len(ours))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--new-prompts", action="store_true", help="prompts with no response in celm-responses yet")
    ap.add_argument("--ignore-batch", help="with --new-prompts: count this batch's prompts as unused")
    ap.add_argument("--bias", action="store_true", help="the bias batch: bias, discrimination and opinion prompts")
    args = ap.parse_args()
    if args.bias:
        return bias_prompts(args.out, args.seed)
    if args.new_prompts:
        return new_prompts(args.out, args.seed, args.ignore_batch)
    rng = random.Random(args.seed)
    items = stratified_sample(load_source("celm-bench"), 3, 2, seed=args.seed)
    for source, n in PUBLIC.items():
        items += _public(source, n, rng, set())
    with_system = rng.sample(items, 105)
    large = rng.sample(items, 45)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, chosen in (("items-all", items), ("items-sys", with_system), ("items-large", large)):
        write_records(args.out / f"{name}.jsonl", sorted(chosen, key=lambda i: i.id))
        print(name, len(chosen))


if __name__ == "__main__":
    main()
