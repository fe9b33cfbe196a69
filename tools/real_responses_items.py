"""Pick the prompts for the labelled real-response set (docs/real-responses.md), seeded.

celm-bench items are ours; public items (JADE, FLAMES, XSafety, CValues) are written to a working
file for generation only and are stored in the project by source id, never as text.

    python tools/real_responses_items.py OUT_DIR [--seed 19]

writes OUT_DIR/items-all.jsonl (0.5B, no system prompt), items-sys.jsonl (0.5B with celm's safety
system prompt) and items-large.jsonl (1.5B), each a celm EvalItem file.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from celm.data.io import write_records
from celm.data.sources import load_source
from celm.evaluate.run import stratified_sample

PUBLIC = {"jade-v2-medium": 35, "flames": 30, "xsafety": 25, "cvalues": 20}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    items = stratified_sample(load_source("celm-bench"), 3, 2, seed=args.seed)
    for source, n in PUBLIC.items():
        pool = load_source(source)
        if source == "xsafety":  # the commonsense file is not a safety prompt set
            pool = [i for i in pool if i.provenance.original_category != "commonsense"]
        items += rng.sample(pool, n)
    with_system = rng.sample(items, 105)
    large = rng.sample(items, 45)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, chosen in (("items-all", items), ("items-sys", with_system), ("items-large", large)):
        write_records(args.out / f"{name}.jsonl", sorted(chosen, key=lambda i: i.id))
        print(name, len(chosen))


if __name__ == "__main__":
    main()
