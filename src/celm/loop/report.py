"""The round-by-round report of a loop folder: ``rounds.json``, ``report.md`` and ``report.html``.

Per round: Acc_eval, helpful & safe and over-refusal with their intervals; the change from the round
before on the same evaluation prompts (Newcombe's paired interval, exact McNemar); Acc_eval per
scenario; answers, ranks, pairs and ties; SFT and DPO loss; who rated (people or an automatic rater,
said on every row), and the annotators' agreement when people rated. The HTML adds a plot of Acc_eval
and helpful & safe by round with their intervals, in the eval report's look.
"""

from __future__ import annotations

from pathlib import Path

from celm.evaluate.stats import format_difference, format_share
from celm.loop.folder import LoopFolder, RoundFolder

TRACKED = ("acc_eval", "helpful_safe")


def _judgements(rf: RoundFolder) -> tuple[dict, object]:
    from celm.evaluate.log import RunFolder

    run = RunFolder(rf.eval_dir)
    log = run.log()
    return {j.item_id: j for j in run.judgements(log.first_arm) if j.kind == "attack"}, log


def _change(before: dict, after: dict, name: str) -> dict | None:
    from celm.evaluate.metrics import flags
    from celm.evaluate.stats import paired_difference

    common = sorted(set(before) & set(after))
    if not common:
        return None
    d = paired_difference(flags((before[i].label for i in common), name), flags((after[i].label for i in common), name))
    return d.to_dict()


def round_summaries(lf: LoopFolder) -> list[dict]:
    """One dict per finished round (its evaluation done), in order."""
    out, previous = [], None
    for rf in lf.rounds():
        steps = rf.steps()
        if "eval" not in steps:
            continue
        judged, log = _judgements(rf)
        arm = log.arms[log.first_arm]
        ratings = steps.get("ratings", {})
        row = {
            "round": rf.number, "model": steps["eval"]["model"],
            "rater": ratings.get("rater"), "rater_kind": ratings.get("rater_kind"),
            "agreement": ratings.get("agreement"),
            "instructions": steps.get("instructions", {}).get("n"), "answers": steps.get("responses", {}).get("n"),
            "ranks": ratings.get("ranks"),
            **{k: steps.get("pairs", {}).get(k) for k in ("pairs", "ties", "duplicates", "sft", "distilled_sft")},
            **{f"{stage}_{k}": steps.get(stage, {}).get(k) for stage in ("sft", "dpo")
               for k in ("loss_first", "loss_last", "steps", "skipped", "seconds")},
            **{name: steps["eval"].get(name) for name in ("acc_eval", "helpful_safe", "over_refusal")},
            "per_scenario": {sid: b.share("acc_eval").model_dump() for sid, b in arm.per_scenario.items()},
            "eval_n": len(judged),
        }
        if previous is not None:
            row["change"] = {name: _change(previous, judged, name) for name in TRACKED}
        out.append(row)
        previous = judged
    return out


def _rater_text(r: dict) -> str:
    if r["rater"] is None:
        return "–"
    who = "people (annotation app)" if r["rater_kind"] == "human" else "automatic, not human"
    return f"`{r['rater']}` ({who})"


def markdown(rows: list[dict], config) -> str:
    from celm.taxonomy import get_taxonomy

    lines = ["# celm loop: round by round", "",
             f"Starting model `{config.model}`; {config.pool.per_round} new instructions a round from "
             f"{', '.join(config.pool.sources)}; {config.responses.samples} answers each without and "
             f"{config.responses.distilled} with the safety system prompt; evaluation on {', '.join(config.eval.benchmarks)} "
             f"judged by `{config.eval.judge}`. Round 0 is the starting model.", "",
             "| round | rater | Acc_eval | change | helpful & safe | change | over-refusal | pairs | ties | SFT rows | SFT loss | DPO loss |",
             "|---" * 12 + "|"]
    for r in rows:
        ch = r.get("change") or {}
        lines.append("| " + " | ".join([
            str(r["round"]), _rater_text(r), format_share(r["acc_eval"]), change_text(ch.get("acc_eval")),
            format_share(r["helpful_safe"]), change_text(ch.get("helpful_safe")), format_share(r["over_refusal"]),
            _num(r.get("pairs")), _num(r.get("ties")), _num(r.get("sft")),
            _loss(r, "sft"), _loss(r, "dpo")]) + " |")
    lines += ["", "Changes are against the round before, on the same evaluation prompts (Newcombe's paired "
              "95% interval; * marks p < 0.05, exact McNemar). Shares carry 95% Clopper–Pearson intervals.", ""]
    agreed = [r for r in rows if r.get("agreement")]
    if agreed:
        lines += ["## Annotator agreement (people in the app)", "", "| round | pairs | raw | weighted kappa | alpha (ordinal) |",
                  "|---|---|---|---|---|"]
        for r in agreed:
            a = r["agreement"]
            lines.append(f"| {r['round']} | {a.get('n')} | {_f(a.get('raw_agreement'))} | {_f(a.get('kappa_quadratic'))} "
                         f"| {_f(a.get('alpha_ordinal'))} |")
        lines.append("")
    tax = get_taxonomy()
    lines += ["## Acc_eval per scenario", "", "| scenario | " + " | ".join(f"round {r['round']}" for r in rows) + " |",
              "|---" * (len(rows) + 1) + "|"]
    for s in tax.scenarios:
        cells = [format_share(r["per_scenario"].get(s.id)) for r in rows]
        if any(c != "–" for c in cells):
            lines.append(f"| {s.name_zh} {s.name_en} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def change_text(d: dict | None) -> str:
    """``+4.4 [-1.2, +10.0]`` with ``*`` when McNemar's p < 0.05, and ``paired, n=136``."""
    if not d:
        return "–"
    return format_difference(d, significant_mark="*" if d["p_value"] < 0.05 else "") + f" (n={d['n']})"


def round_change(folder: str | Path, before: int, after: int, name: str = "acc_eval") -> dict | None:
    """The paired change of metric ``name`` from round ``before`` to round ``after`` of a loop folder."""
    lf = LoopFolder(folder)
    return _change(_judgements(lf.round(before))[0], _judgements(lf.round(after))[0], name)


def _num(v) -> str:
    return "–" if v is None else str(v)


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def _loss(r: dict, stage: str) -> str:
    if r.get(f"{stage}_skipped"):
        return f"skipped ({r[f'{stage}_skipped']})"
    first, last = r.get(f"{stage}_loss_first"), r.get(f"{stage}_loss_last")
    return "–" if first is None else f"{first:.3f} → {last:.3f}"


def svg_plot(rows: list[dict], *, width: int = 560, height: int = 260) -> str:
    """Acc_eval and helpful & safe by round, each point with its interval as an error bar."""
    left, right, top, bottom = 48, 140, 16, 34
    w, h = width - left - right, height - top - bottom
    n = max(len(rows) - 1, 1)
    x = lambda i: left + w * i / n  # noqa: E731
    y = lambda v: top + h * (1 - v)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Acc_eval and helpful and safe by round">']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e6e8ee"/>'
                     f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick * 100:.0f}%</text>')
    for i, r in enumerate(rows):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 12}" font-size="11" text-anchor="middle">round {r["round"]}</text>')
    for k, (name, label, colour) in enumerate((("acc_eval", "Acc_eval", "#2e6fd0"), ("helpful_safe", "helpful &amp; safe", "#2e9e6a"))):
        pts = [(x(i) + (k - 0.5) * 6, r[name]) for i, r in enumerate(rows) if r.get(name) and r[name].get("n")]
        if pts:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                         + " ".join(f"{px:.1f},{y(d['value']):.1f}" for px, d in pts) + '"/>')
        for px, d in pts:
            parts.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y(d["low"]):.1f}" y2="{y(d["high"]):.1f}" stroke="{colour}"/>'
                         f'<circle cx="{px:.1f}" cy="{y(d["value"]):.1f}" r="3.5" fill="{colour}">'
                         f'<title>{label}: {format_share(d)}</title></circle>')
        parts.append(f'<rect x="{left + w + 14}" y="{top + 18 * k}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{left + w + 32}" y="{top + 18 * k + 10}" font-size="12">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html(rows: list[dict], config) -> str:
    from markupsafe import Markup

    from celm.evaluate.html_page import report_environment

    env = report_environment("celm.loop", diff=change_text, loss=_loss, rater=_rater_text)
    template = env.get_template("loop_report.html")
    from celm.taxonomy import get_taxonomy

    names = {sc.id: f"{sc.name_zh} {sc.name_en}" for sc in get_taxonomy().scenarios}
    return template.render(rows=rows, config=config, plot=Markup(svg_plot(rows)), names=names)


def write_loop_report(folder: str | Path | LoopFolder) -> list[dict]:
    """Write rounds.json, report.md and report.html from the folder's files; returns the round summaries."""
    from celm.data.io import write_json, write_text

    lf = folder if isinstance(folder, LoopFolder) else LoopFolder(folder)
    rows = round_summaries(lf)
    config = lf.config()
    write_json(lf.summary_json, rows)
    write_text(lf.report_md, markdown(rows, config))
    write_text(lf.report_html, html(rows, config))
    return rows
