"""Stage 3: prompt-injection augmentation with the paper's five template families, written in Chinese
(the templates live with the other attack strategies, celm.attack.injection).

Each template has a name; ``inject`` applies templates to instructions sampled per scenario and
records ``injection:FAMILY/TEMPLATE`` in the new record's provenance (and ``tactic="injection"`` on
eval items), so evaluations can break results down by attack style.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from celm.attack import get_strategy
from celm.attack.injection import FAMILIES, TEMPLATES, InjectionTemplate, template, templates_of
from celm.curate.fields import instruction_text, with_instruction
from celm.curate.report import StageReport
from celm.data.records import EvalItem, Record

__all__ = ["FAMILIES", "TEMPLATES", "InjectionTemplate", "inject", "template"]


def _apply(template_name: str, question: str) -> str:
    # through the attack registry, so curation and `celm attack` apply one set of templates
    return get_strategy(f"injection?template={template_name}").transform(question, random.Random(0)).text


def inject(records: Sequence[Record], *, per_scenario: int = 5, families: Sequence[str] = FAMILIES,
           seed: int = 0, keep_originals: bool = True) -> tuple[list[Record], StageReport]:
    """For ``per_scenario`` instructions of each scenario, one injected variant per family (a template
    of the family chosen at random, seeded)."""
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown injection families {unknown}; known: {', '.join(FAMILIES)}")
    rng = random.Random(seed)
    by_scenario: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.provenance.method is None or not r.provenance.method.startswith("injection:"):
            by_scenario[r.scenario or ""].append(r)
    report = StageReport(stage="inject", input=len(records), details={"per_scenario": per_scenario, "families": list(families)})
    added: list[Record] = []
    per_template: dict[str, int] = defaultdict(int)
    for scenario in sorted(by_scenario):
        pool = sorted(by_scenario[scenario], key=lambda r: r.id)
        for r in rng.sample(pool, min(per_scenario, len(pool))):
            for family in families:
                t = rng.choice(templates_of(family))
                prov = r.provenance.model_copy(update={
                    "method": f"injection:{family}/{t.name}",
                    "details": {**r.provenance.details, "injected_from": r.id}})
                new = with_instruction(r, _apply(t.name, instruction_text(r))).model_copy(
                    update={"id": f"{r.id}-inj-{t.name}", "provenance": prov})
                if isinstance(new, EvalItem):
                    new = new.model_copy(update={"tactic": "injection"})  # kind stays: a wrapped benign question is still benign
                added.append(new)
                per_template[t.name] += 1
    out = (list(records) if keep_originals else []) + added
    report.added = len(added)
    report.details["per_template"] = dict(sorted(per_template.items()))
    return out, report.finish(len(out))
