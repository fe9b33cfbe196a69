"""Reports of a run: Markdown for papers and PRs, and one self-contained HTML file (no network)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from celm.data.records import JudgementRecord, Response
from celm.evaluate.metrics import HELPFUL_NOTE, HELPFUL_NOTE_ZH, SHARE_TITLES
from celm.evaluate.stats import SMALL_N, distinguishable, format_difference, format_share
from celm.taxonomy import get_taxonomy


def _pct(d: dict | None) -> str:
    return format_share(d)


def _diff(d: dict) -> str:
    return format_difference(d, significant_mark=" *" if d["p_value"] < 0.05 else "")


def markdown_report(metrics: dict) -> str:
    tax = get_taxonomy()
    lines = [f"# celm evaluation: `{metrics['model']}`", "",
             f"Judge: `{metrics['judge']}` · benchmarks: {', '.join(metrics['benchmarks'])} · {metrics['items']} items", ""]
    if "judge_check" in metrics:
        from celm.judge.measured import describe

        lines += [f"> **Judge check:** {describe(metrics['judge_check'])}", ""]
    for arm, m in metrics["arms"].items():
        title = "with norms in the prompt" if arm == "norms" else "as asked"
        o, c = m["overall"], m["china_centric"]
        lines += [f"## {title} ({arm})", "",
                  f"**Acc_eval {_pct(o['acc_eval'])} · helpful & safe {_pct(o.get('helpful_safe'))}.** {HELPFUL_NOTE}", "",
                  "| | All scenarios | China-centric |", "|---|---|---|"]
        # metrics from before the fourth verdict lack helpful_safe and irrelevant: "–"
        lines += [f"| {en} | {_pct(o.get(key))} | {_pct(c.get(key))} |" for key, (en, _) in SHARE_TITLES.items()]
        lines += [f"| items | {o['n']} | {c['n']} |", "",
                  f"Over-refusal (benign prompts refused): {_pct(m['over_refusal'])} of {m['over_refusal']['n']}; "
                  f"benign prompts answered helpfully and safely: {_pct(m.get('benign', {}).get('helpful_safe'))}.", ""]
        if "acc_eval_corrected" in m:
            k = m["acc_eval_corrected"]
            lines += [f"Acc_eval corrected for the judge's measured error rates: {k['value'] * 100:.1f}% "
                      f"[{k['low'] * 100:.1f}, {k['high'] * 100:.1f}].", ""]
        lines += ["| scenario | 场景 | domain | n | Acc_eval | Safe | Reject | Risk | Irrelevant |", "|---" * 9 + "|"]
        for sid, b in m["per_scenario"].items():
            s = tax.scenario(sid)
            star = " ★" if s.china_centric else ""
            lines.append(f"| {sid}{star} | {s.name_zh} | {s.domain} | {b['n']} | {_pct(b['acc_eval'])} | {_pct(b['safe'])} | "
                         f"{_pct(b['reject'])} | {_pct(b['risk'])} | {_pct(b.get('irrelevant'))} |")
        if not distinguishable([b["acc_eval"] for b in m["per_scenario"].values()]):
            lines += ["", f"Too few items per scenario to tell the scenarios apart (the intervals of the best and the "
                          f"worst overlap); shares marked (n=…) rest on fewer than {SMALL_N} items. Read them as a "
                          f"sample, not a ranking; run `--full` for more items per scenario."]
        if distinguishable([v["broken"] for v in m["per_norm"].values()]):
            broken = sorted(m["per_norm"].items(), key=lambda kv: -kv[1]["broken"]["value"])[:8]
            lines += ["", "Norms broken most (share of their prompts answered riskily):", ""]
        else:
            broken = sorted(m["per_norm"].items())
            lines += ["", "Share of each norm's prompts answered riskily (too few items to rank the norms):", ""]
        lines += ["| norm | broken | n |", "|---|---|---|"]
        for nid, v in broken:
            lines.append(f"| {nid} {tax.norm(nid).text_zh[:30]}… | {_pct(v['broken'])} | {v['n']} |")
        lines.append("")
    if "norm_ablation" in metrics:
        ab = metrics["norm_ablation"]
        lines += ["## Norms in the prompt (paper section 4.3): with minus without, paired", "",
                  f"Acc_eval change: {_diff(ab['overall'])} points (exact McNemar p = {ab['overall']['p_value']:.3g}); "
                  f"refusal share change: {_diff(ab['reject_shift'])} points.", "",
                  "| scenario | n | change in Acc_eval (points) |", "|---|---|---|"]
        for sid, d in ab["per_scenario"].items():
            lines.append(f"| {sid} | {d['n']} | {_diff(d)} |")
        lines += ["", "`*` the paired difference is significant at 5% (exact McNemar).", ""]
    if "compliance" in metrics:
        from celm.evaluate.compliance import markdown as compliance_md

        lines += [compliance_md(metrics["compliance"])]
    if "human" in metrics:
        from celm.evaluate.human import markdown as human_md

        lines += [human_md(metrics["human"])]
    lines += ["Shares carry exact 95% Clopper–Pearson intervals, differences Newcombe's score intervals; "
              f"(n=…) marks a share over fewer than {SMALL_N} items; ★ marks the China-centric scenarios.", ""]
    return "\n".join(lines)


def _riskiest(responses: list[Response], judgements: list[JudgementRecord], k: int = 30) -> list[dict]:
    by_id = {r.id: r for r in responses}
    risky = sorted((j for j in judgements if j.label == "risk"), key=lambda j: -j.p_risk)[:k]
    return [{"scenario": j.scenario or "", "prompt": by_id[j.id].prompt, "response": by_id[j.id].response,
             "p_risk": round(j.p_risk, 3), "reason": j.reason, "kind": j.kind} for j in risky if j.id in by_id]


def html_report(metrics: dict, responses: dict[str, list[Response]], judgements: dict[str, list[JudgementRecord]]) -> str:
    from jinja2 import Environment, select_autoescape

    tax = get_taxonomy()
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = lambda d: format_share(d, mark_small=False)  # the HTML shows n beside it
    env.globals.update(SMALL_N=SMALL_N, SHARE_TITLES=SHARE_TITLES, HELPFUL_NOTE=HELPFUL_NOTE, HELPFUL_NOTE_ZH=HELPFUL_NOTE_ZH)
    template = env.from_string(resources.files("celm.evaluate").joinpath("templates/report.html").read_text(encoding="utf-8"))
    arms = []
    for arm, m in metrics["arms"].items():
        rows = []
        for sid, b in m["per_scenario"].items():
            s = tax.scenario(sid)
            rows.append({"id": sid, "zh": s.name_zh, "en": s.name_en, "domain": s.domain, "china": s.china_centric, "n": b["n"],
                         "small": 0 < b["n"] < SMALL_N,
                         "acc": b["acc_eval"]["value"], "acc_txt": format_share(b["acc_eval"], mark_small=False), "safe": b["safe"]["value"],
                         "reject": b["reject"]["value"], "risk": b["risk"]["value"],
                         "irrelevant": b.get("irrelevant", {}).get("value", 0.0)})
        arms.append({"name": arm, "m": m, "rows": rows, "ranked": distinguishable([b["acc_eval"] for b in m["per_scenario"].values()]),
                     "riskiest": _riskiest(responses.get(arm, []), judgements.get(arm, []))})
    data = {"scenarios": [{"id": s.id, "zh": s.name_zh, "en": s.name_en} for s in tax.scenarios]}
    from celm.judge.measured import describe

    judge_check = describe(metrics["judge_check"]) if "judge_check" in metrics else None
    return template.render(metrics=metrics, arms=arms, judge_check=judge_check, data_json=json.dumps(data, ensure_ascii=False),
                           ablation=metrics.get("norm_ablation"), human=metrics.get("human"))


def write_reports(folder: Path, metrics: dict, responses, judgements) -> None:
    from celm.data.io import write_text

    write_text(folder / "report.md", markdown_report(metrics))
    write_text(folder / "report.html", html_report(metrics, responses, judgements))


def rereport(folder: str | Path) -> dict:
    """Re-render a finished run's reports from its files (no model, no judge)."""
    from celm.data.io import read_records

    folder = Path(folder)
    metrics_path = folder / "metrics.json"
    if not metrics_path.exists():
        raise FileNotFoundError(f"{folder}: not a finished celm run (no metrics.json)")
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    responses, judgements = {}, {}
    for arm in metrics["arms"]:
        suffix = "" if arm == "base" else f"-{arm}"
        responses[arm] = read_records(folder / f"responses{suffix}.jsonl", "response")
        judgements[arm] = read_records(folder / f"judgements{suffix}.jsonl", "judgement")
    write_reports(folder, metrics, responses, judgements)
    return metrics
