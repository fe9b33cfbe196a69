"""LLaMA-Factory's Chinese demo data: helpfulness SFT (alpaca) and preference (sharegpt) data.

The paper mixes helpfulness data D^h with safety data D^c; these are small public stand-ins.
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import PreferencePair, Provenance, SFTExample
from celm.data.sources._common import RowErrors, json_file, resolve


def load_alpaca(path: str | Path | None = None) -> list[SFTExample]:
    file = resolve(path, "llamafactory-demo", "alpaca_zh_demo.json")
    errors = RowErrors()
    out = []
    for number, row in enumerate(json_file(file), start=1):
        instruction, output = (row.get("instruction") or "").strip(), (row.get("output") or "").strip()
        if not instruction or not output:
            errors.add(file, number, "instruction" if not instruction else "output", "empty text")
            continue
        out.append(SFTExample(
            id=f"alpaca-zh-{number}", instruction=instruction, input=row.get("input") or "", output=output,
            system=row.get("system") or None,
            provenance=Provenance(source="alpaca-zh-demo", source_id=str(number), method="helpfulness"),
        ))
    errors.raise_if_any()
    return out


def _text(turn) -> str:
    return (turn or {}).get("value", "") if isinstance(turn, dict) else str(turn or "")


def load_dpo(path: str | Path | None = None) -> list[PreferencePair]:
    file = resolve(path, "llamafactory-demo", "dpo_zh_demo.json")
    errors = RowErrors()
    out = []
    for number, row in enumerate(json_file(file), start=1):
        turns = row.get("conversations") or []
        humans = [t for t in turns if t.get("from") in ("human", "user")]
        if not humans:
            errors.add(file, number, "conversations", "no human turn")
            continue
        chosen, rejected = _text(row.get("chosen")).strip(), _text(row.get("rejected")).strip()
        if not chosen or not rejected or chosen == rejected:
            errors.add(file, number, "chosen", "empty or identical chosen/rejected")
            continue
        out.append(PreferencePair(
            id=f"dpo-zh-{number}", instruction=_text(humans[-1]), chosen=chosen, rejected=rejected,
            provenance=Provenance(source="dpo-zh-demo", source_id=str(number), method="helpfulness",
                                  details={"turns": len(turns)}),
        ))
    errors.raise_if_any()
    return out
