"""Reports of a run: Markdown for papers and PRs, and one self-contained HTML file (no network).

Which figures they show comes from the metric registry (celm.evaluate.registry), in its order.
"""

from __future__ import annotations

import json
from pathlib import Path

from celm.data.records import SAFETY_LABELS, JudgementRecord, Response
from celm.evaluate.log import Arm, EvalLog, RunFolder, Share
from celm.evaluate.metrics import HELPFUL_NOTE, HELPFUL_NOTE_ZH
from celm.evaluate.registry import SUBSETS, figure, over, registered, summary
from celm.evaluate.stats import SMALL_N, distinguishable, format_difference, format_share
from celm.taxonomy import get_taxonomy


def _pct(d: Share | None) -> str:
    return format_share(d)


def _diff(d: dict) -> str:
    return format_difference(d, significant_mark=" *" if d["p_value"] < 0.05 else "")


def _headline(m: Arm) -> str:
    """``Acc_eval 60.8% [46.1, 74.2] · helpful & safe 54.9% [40.3, 68.9]``: the headline metrics in a sentence."""
    headline = [x for x in registered() if x.headline]
    return " · ".join(f"{x.en if i == 0 else x.en[0].lower() + x.en[1:]} {_pct(figure(m, x))}" for i, x in enumerate(headline))


def _arm_markdown(arm: str, m: Arm, tax) -> list[str]:
    title = "with norms in the prompt" if arm == "norms" else "as asked"
    o, c = m.overall, m.china_centric
    lines = [f"## {title} ({arm})", "", f"**{_headline(m)}.** {HELPFUL_NOTE}", "",
             "| | All scenarios | China-centric |", "|---|---|---|"]
    # a share the log migration marked unmeasured (a run from before the fourth verdict) shows "–"
    lines += [f"| {x.en} | {_pct(o.share(x.name))} | {_pct(c.share(x.name))} |" for x in over("attacks")]
    lines += [f"| items | {o.n} | {c.n} |", ""]
    for subset in ("benign", "all"):
        rows = [r for r in summary(m) if r["subset"] == subset]
        if rows:
            lines += [f"{SUBSETS[subset][0].capitalize()} ({rows[0]['n']}): "
                      + "; ".join(f"{r['metric'].en} {_pct(r['share'])}" for r in rows) + ".", ""]
    if m.acc_eval_corrected is not None:
        corrected = m.acc_eval_corrected
        lines += ["Acc_eval corrected for the judge's measured error rates: "
                  + (f"none: {corrected.misfit}." if corrected.misfit else f"{format_share(corrected, mark_small=False)}."), ""]
    columns = [x for x in over("attacks", "scenario") if x.breakdown]
    if columns:
        lines += ["| scenario | 场景 | domain | n | " + " | ".join(x.en for x in columns) + " |", "|---" * (len(columns) + 4) + "|"]
        per_scenario = m.per_scenario
        for sid, b in per_scenario.items():
            s = tax.scenario(sid)
            star = " ★" if s.china_centric else ""
            lines.append(f"| {sid}{star} | {s.name_zh} | {s.domain} | {b.n} | " + " | ".join(_pct(b.share(x.name)) for x in columns) + " |")
        if not distinguishable([b.share(columns[0].name) for b in per_scenario.values()]):
            lines += ["", f"Too few items per scenario to tell the scenarios apart (the intervals of the best and the "
                          f"worst overlap); shares marked (n=…) rest on fewer than {SMALL_N} items. Read them as a "
                          f"sample, not a ranking; run `--full` for more items per scenario."]
    per_norm = m.per_norm
    for x in over("attacks", "norm"):  # a run from before a metric was registered shows "–" for it
        if distinguishable([v.share(x.name) for v in per_norm.values()]):
            ranked = sorted(per_norm.items(), key=lambda kv: -kv[1].share(x.name).value)[:8]
            lines += ["", f"Norms {x.en.lower()} most ({x.description}):", ""]
        else:
            ranked = sorted(per_norm.items())
            lines += ["", f"{x.description[0].upper()}{x.description[1:]} (too few items to rank the norms):", ""]
        lines += [f"| norm | {x.en.lower()} | n |", "|---|---|---|"]
        lines += [f"| {nid} {tax.norm(nid).text_zh[:30]}… | {_pct(v.share(x.name))} | {v.n} |" for nid, v in ranked]
    return lines + [""]


def markdown_report(metrics: EvalLog | dict) -> str:
    eval_log = EvalLog.of(metrics)
    tax = get_taxonomy()
    lines = [f"# celm evaluation: `{eval_log.model}`", "",
             f"Judge: `{eval_log.judge}` · benchmarks: {', '.join(eval_log.benchmarks)} · {eval_log.items} items", ""]
    if eval_log.judge_check:
        from celm.judge.measured import describe

        lines += [f"> **Judge check:** {describe(eval_log.judge_check)}", ""]
    for arm, m in eval_log.arms.items():
        lines += _arm_markdown(arm, m, tax)
    if eval_log.norm_ablation:
        ab = eval_log.norm_ablation
        lines += ["## Norms in the prompt (paper section 4.3): with minus without, paired", "",
                  f"Acc_eval change: {_diff(ab['overall'])} points (exact McNemar p = {ab['overall']['p_value']:.3g}); "
                  f"refusal share change: {_diff(ab['reject_shift'])} points.", "",
                  "| scenario | n | change in Acc_eval (points) |", "|---|---|---|"]
        for sid, d in ab["per_scenario"].items():
            lines.append(f"| {sid} | {d['n']} | {_diff(d)} |")
        lines += ["", "`*` the paired difference is significant at 5% (exact McNemar).", ""]
    if eval_log.compliance:
        from celm.evaluate.compliance import markdown as compliance_md

        lines += [compliance_md(eval_log.compliance)]
    if eval_log.human:
        from celm.evaluate.human import markdown as human_md

        lines += [human_md(eval_log.human)]
    lines += ["Shares carry exact 95% Clopper–Pearson intervals, differences Newcombe's score intervals; "
              f"(n=…) marks a share over fewer than {SMALL_N} items; ★ marks the China-centric scenarios.", ""]
    return "\n".join(lines)


def _riskiest(responses: list[Response], judgements: list[JudgementRecord], k: int = 30) -> list[dict]:
    by_id = {r.id: r for r in responses}
    risky = sorted((j for j in judgements if j.label == "risk"), key=lambda j: -j.p_risk)[:k]
    return [{"scenario": j.scenario or "", "prompt": by_id[j.id].prompt, "response": by_id[j.id].response,
             "p_risk": round(j.p_risk, 3), "reason": j.reason, "kind": j.kind} for j in risky if j.id in by_id]


def _bar(d: Share | None) -> float:
    """A verdict's width in the HTML's stacked bar; an unmeasured share (a run from before the fourth verdict) takes none."""
    return d.value if d is not None and d.value is not None else 0.0


def _cards(rows: list[dict], *, with_n: bool = False) -> list[dict]:
    """HTML cards of summary rows; beside the share its n (always for a subset other than the attacks)."""
    return [{"title": f"{r['title'][1]} {r['title'][0]}", "d": r["share"], "cls": r["metric"].name,
             "note": f"n={r['share'].n}" if r["share"] and (with_n or r["subset"] != "attacks") else ""} for r in rows]


def html_report(metrics: EvalLog | dict, responses: dict[str, list[Response]], judgements: dict[str, list[JudgementRecord]]) -> str:
    from celm.evaluate.html_page import report_environment

    eval_log = EvalLog.of(metrics)
    tax = get_taxonomy()
    env = report_environment("celm.evaluate")
    env.globals.update(SMALL_N=SMALL_N, HELPFUL_NOTE=HELPFUL_NOTE, HELPFUL_NOTE_ZH=HELPFUL_NOTE_ZH, shares=over("attacks"))
    template = env.get_template("report.html")
    main = next(x for x in over("attacks", "scenario") if x.breakdown)  # the scenario table's figure
    arms = []
    for arm, m in eval_log.arms.items():
        rows = []
        for sid, b in m.per_scenario.items():
            s = tax.scenario(sid)
            rows.append({"id": sid, "zh": s.name_zh, "en": s.name_en, "domain": s.domain, "china": s.china_centric, "n": b.n,
                         "small": 0 < b.n < SMALL_N, "main": b.share(main.name).value,
                         "main_txt": format_share(b.share(main.name), mark_small=False),
                         **{v: _bar(b.share(v)) for v in SAFETY_LABELS}})
        cards = summary(m)
        headline = [r for r in cards if r["metric"].headline and r["subset"] == "attacks"]
        arms.append({"name": arm, "m": m, "rows": rows, "ranked": distinguishable([b.share(main.name) for b in m.per_scenario.values()]),
                     "headline": _cards(headline, with_n=True), "cards": _cards([r for r in cards if r not in headline]),
                     "riskiest": _riskiest(responses.get(arm, []), judgements.get(arm, []))})
    data = {"scenarios": [{"id": s.id, "zh": s.name_zh, "en": s.name_en} for s in tax.scenarios]}
    from celm.judge.measured import describe

    judge_check = describe(eval_log.judge_check) if eval_log.judge_check else None
    return template.render(metrics=eval_log, arms=arms, judge_check=judge_check, data_json=json.dumps(data, ensure_ascii=False),
                           main=main, ablation=eval_log.norm_ablation, human=eval_log.human)


def write_reports(folder: str | Path, metrics: EvalLog | dict, responses, judgements) -> None:
    from celm.data.io import write_text

    run, eval_log = RunFolder(folder), EvalLog.of(metrics)
    write_text(run.report_md, markdown_report(eval_log))
    write_text(run.report_html, html_report(eval_log, responses, judgements))


def rereport(folder: str | Path) -> dict:
    """Re-render a finished run's reports from its files (no model, no judge); metrics.json's content."""
    run = RunFolder(folder)
    eval_log = run.log()
    arms = eval_log.arms
    write_reports(run.path, eval_log, {arm: run.responses(arm) for arm in arms}, {arm: run.judgements(arm) for arm in arms})
    return eval_log.to_dict()
