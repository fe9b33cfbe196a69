"""Stage 7: norm annotation: attach the norms that govern each record's scenario (taxonomy)."""

from __future__ import annotations

from collections.abc import Sequence

from celm.curate.report import StageReport
from celm.data.records import Record
from celm.taxonomy import get_taxonomy


def annotate_norms(records: Sequence[Record], *, overwrite: bool = False) -> tuple[list[Record], StageReport]:
    """Records with a scenario get its norms (added to any they carry; replaced with ``overwrite``)."""
    tax = get_taxonomy()
    report = StageReport(stage="norms", input=len(records), details={"overwrite": overwrite})
    out = []
    per_norm: dict[str, int] = {}
    for r in records:
        if r.scenario:
            governing = list(tax.norms_for(r.scenario))
            norms = governing if overwrite else list(dict.fromkeys([*r.norms, *governing]))
            if norms != r.norms:
                r = r.model_copy(update={"norms": norms})
                report.changed += 1
        else:
            report.note("no_scenario", r)
        for n in r.norms:
            per_norm[n] = per_norm.get(n, 0) + 1
        out.append(r)
    report.details["per_norm"] = dict(sorted(per_norm.items()))
    return out, report.finish(len(out))
