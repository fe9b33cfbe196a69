"""celm taxonomy: the 17 scenarios and 17 norms."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from celm.cli._common import console


def taxonomy(
    as_json: bool = typer.Option(False, "--json", help="print {scenarios: [...], norms: [...]} as JSON"),
) -> None:
    """Show the CELM risk scenarios and the norms that govern them (显示风险场景与规范)."""
    from celm.taxonomy import get_taxonomy

    tax = get_taxonomy()
    if as_json:
        print(json.dumps(tax.to_json_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(title="CELM risk scenarios 风险场景 (17)")
    for col in ("id", "场景", "scenario", "domain", "China-centric", "norms"):
        table.add_column(col)
    for s in tax.scenarios:
        table.add_row(s.id, s.name_zh, s.name_en, s.domain, "★" if s.china_centric else "", ", ".join(tax.norms_for(s.id)))
    console.print(table)
    norms = Table(title="CELM norms 规范 (17)", show_lines=True)
    for col in ("id", "规范 / norm", "scenarios", "laws 法律依据"):
        norms.add_column(col)
    for n in tax.norms:
        norms.add_row(n.id, f"{n.text_zh}\n[dim]{n.text_en}[/dim]", ", ".join(n.scenarios), "\n".join(n.laws))
    console.print(norms)
