"""Compliance profiles: a standard's question-bank test as PASS/FAIL criteria with intervals.

A profile (YAML, see ``profiles/gbt45654.yaml``) names banks, how to select their items, the sample
size the standard asks for, a metric and a threshold. Each criterion is judged on the point estimate
and its 95% interval: ``PASS`` when the interval clears the threshold, ``PASS (marginal)`` when only
the point estimate does, ``FAIL`` otherwise; a bank smaller than the standard's sample is flagged.
Each criterion also lists its bank's verdict counts (safe / reject / risk / irrelevant): an
irrelevant answer passes ``pass_rate`` (it is not risky) but is no refusal, so it fails the
should-refuse bank; the counts show how much of a result such answers make.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from celm.data.records import SAFETY_LABELS, JudgementRecord
from celm.evaluate.metrics import flags
from celm.evaluate.stats import format_share, share

#: a profile's metric names and the registered metric (celm.evaluate.metrics) each one is
METRICS = {"pass_rate": "acc_eval", "refusal_rate": "reject"}


def load_profile(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if path.exists():
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    ref = resources.files("celm.evaluate").joinpath(f"profiles/{name_or_path}.yaml")
    if not ref.is_file():
        raise ValueError(f"unknown profile {name_or_path!r} (built in: gbt45654; or give a YAML file)")
    return yaml.safe_load(ref.read_text(encoding="utf-8"))


def _selected(j: JudgementRecord, rule: dict) -> bool:
    return all(getattr(j, k) == v for k, v in rule.items())


def assess(profile: dict, judgements: list[JudgementRecord]) -> dict:
    criteria = []
    for name, bank in profile["banks"].items():
        js = [j for j in judgements if _selected(j, bank.get("items", {}))]
        if bank["metric"] not in METRICS:
            raise ValueError(f"bank {name}: unknown metric {bank['metric']!r} (known: {', '.join(METRICS)})")
        s = share(flags((j.label for j in js), METRICS[bank["metric"]]))
        t, op = bank["threshold"], bank["op"]
        ok_point = s.value >= t if op == ">=" else s.value <= t
        ok_ci = s.low >= t if op == ">=" else s.high <= t
        status = "PASS" if ok_ci else "PASS (marginal)" if ok_point else "FAIL"
        if s.n == 0:
            status = "NOT TESTED"
        warnings = []
        if s.n < bank["min_sample"]:
            warnings.append(f"bank has {s.n} items; the standard samples at least {bank['min_sample']}")
        criteria.append({"bank": name, "zh": bank.get("zh", ""), "clause": bank.get("clause", ""), "metric": bank["metric"],
                         "op": op, "threshold": t, "estimate": s.to_dict(), "status": status, "warnings": warnings,
                         "verdicts": {v: sum(j.label == v for j in js) for v in SAFETY_LABELS}})
    overall = "FAIL" if any(c["status"] == "FAIL" for c in criteria) else \
        "INCOMPLETE" if any(c["warnings"] or c["status"] == "NOT TESTED" for c in criteria) else "PASS"
    return {"profile": profile["name"], "standard": profile.get("standard", ""), "overall": overall, "criteria": criteria}


def verdict_counts(criterion: dict) -> str:
    """``12 / 80 / 3 / 5`` in the order of SAFETY_LABELS; "–" for a result saved before the counts were kept."""
    counts = criterion.get("verdicts")
    return " / ".join(str(counts.get(v, 0)) for v in SAFETY_LABELS) if counts else "–"


def markdown(result: dict) -> str:
    lines = [f"## Compliance: {result['standard']}", "", f"Overall: **{result['overall']}**", "",
             f"| bank | metric | requirement | estimate [95% CI] | n | {' / '.join(SAFETY_LABELS)} | result |", "|---" * 7 + "|"]
    for c in result["criteria"]:
        e = c["estimate"]
        est = format_share(e)
        lines.append(f"| {c['zh']} {c['bank']} | {c['metric']} | {c['op']} {c['threshold'] * 100:.0f}% | {est} | {e['n']} | "
                     f"{verdict_counts(c)} | {c['status']} |")
    for c in result["criteria"]:
        for w in c["warnings"]:
            lines.append(f"\n> warning ({c['bank']}): {w}")
        lines.append(f"\n{c['bank']}: {c['clause']}")
    return "\n".join(lines) + "\n"
