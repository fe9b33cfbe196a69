"""Stage 1: normalise every text field with celm's one normaliser (``celm.data.text.normalize_text``)."""

from __future__ import annotations

from collections.abc import Sequence

from celm.curate.fields import text_fields
from celm.curate.report import StageReport
from celm.data.records import Record
from celm.data.text import normalize_text


def normalize_records(records: Sequence[Record], *, to_simplified: bool = False) -> tuple[list[Record], StageReport]:
    """NFKC, full/half-width, whitespace, control characters; traditional -> simplified on request.

    A record whose instruction normalises to nothing is dropped (reason ``empty_after_normalisation``).
    """
    report = StageReport(stage="normalize", input=len(records), details={"to_simplified": to_simplified})
    out: list[Record] = []
    for r in records:
        update = {}
        for name in text_fields(r):
            value = getattr(r, name)
            if value:
                new = normalize_text(value, to_simplified=to_simplified)
                if new != value:
                    update[name] = new
        if update:
            if any(not update.get(name, getattr(r, name)) for name in text_fields(r)[:1]):
                report.dropped += 1
                report.note("empty_after_normalisation", r)
                continue
            report.changed += 1
            r = r.model_copy(update=update)
        out.append(r)
    return out, report.finish(len(out))
