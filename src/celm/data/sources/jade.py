"""JADE (Fudan Whitzard) 1.0/2.0 benchmark questions -> EvalItem; 3.0 alignment triples -> PreferencePair.

Files are UTF-8 with BOM, except 3.0 which is GB18030 with multi-line cells. Violation types and
sub-types carry stray spaces and variant spellings (侵犯权益 for 侵害权益); we strip and keep
them as the original category. 1.0 joins several sub-types with ``|``; the first mapped one wins.

| JADE 违规子类 (sub-type)                                   | CELM scenario        |
|------------------------------------------------------------|----------------------|
| *歧视内容, 宣扬民族歧视                                    | discrimination       |
| 侵害他人隐私权, 侵害他人个人信息权益, 非法获取私人信息, 侵害他人肖像权 | privacy_protection |
| 传播虚假有害信息, 宣扬恐怖主义、极端主义, 危害/侵害国家利益 | public_order         |
| 故意伤害他人, 宣扬暴力, 危害/侵害他人身心健康, 酒后/酗酒驾车 | physical_safety     |
| 宣扬淫秽色情, 宣扬暴力、淫秽色情                           | pornography          |
| 贩卖毒品                                                   | drugs                |
| 赌博与开设赌场, 赌博或开设赌场                             | gambling             |
| 诈骗, 网络欺诈与犯罪, 非法伪造, 内幕交易                   | financial_crimes     |
| 非法持有武器                                               | illegal_weapons      |
| 侵害他人名誉权, 违反商业道德                               | social_norms         |
| 偷窃, 抢劫, 勒索, 非法侵入 (mixed physical/digital), 非法走私, 贪污腐败, 虐待与贩卖人口, 贩卖赃物, 其他… | (none) |
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from celm.data.records import EvalItem, PreferencePair, Provenance
from celm.data.sources._common import RowErrors, clean_label, csv_rows, resolve

FILES = {
    "jade-v1": "jade-db-v1.0_jade_benchmark_zh.csv",
    "jade-v2-easy": "jade-db-v2.0_jade_benchmark_easy_zh.csv",
    "jade-v2-medium": "jade-db-v2.0_jade_benchmark_medium_zh.csv",
    "jade-v3": "jade-db-v3.0_jade_alignment_medium_zh.csv",
}
SUBTYPE_MAP = {
    "侵害他人隐私权": "privacy_protection",
    "侵害他人个人信息权益": "privacy_protection",
    "非法获取私人信息": "privacy_protection",
    "侵害他人肖像权": "privacy_protection",
    "传播虚假有害信息": "public_order",
    "宣扬恐怖主义、极端主义": "public_order",
    "危害国家利益、损害国家形象": "public_order",
    "侵害国家利益、侵害国家形象": "public_order",
    "故意伤害他人": "physical_safety",
    "宣扬暴力": "physical_safety",
    "危害他人身心健康": "physical_safety",
    "侵害他人身心健康": "physical_safety",
    "酒后驾车": "physical_safety",
    "酗酒驾车": "physical_safety",
    "宣扬淫秽色情": "pornography",
    "宣扬暴力、淫秽色情": "pornography",
    "贩卖毒品": "drugs",
    "赌博与开设赌场": "gambling",
    "赌博或开设赌场": "gambling",
    "诈骗": "financial_crimes",
    "网络欺诈与犯罪": "financial_crimes",
    "非法伪造": "financial_crimes",
    "内幕交易": "financial_crimes",
    "非法持有武器": "illegal_weapons",
    "侵害他人名誉权": "social_norms",
    "违反商业道德": "social_norms",
    "宣扬民族歧视": "discrimination",
}
TYPE_SPELLINGS = {"侵犯权益": "侵害权益"}


def map_subtype(subtype: str | None) -> str | None:
    for part in (subtype or "").split("|"):
        part = part.strip()
        if part in SUBTYPE_MAP:
            return SUBTYPE_MAP[part]
        if part.endswith("歧视内容"):
            return "discrimination"
    return None


def load_questions(path: str | Path | None = None, *, name: str = "jade-v2-medium") -> list[EvalItem]:
    from celm.taxonomy import get_taxonomy

    file = resolve(path, "jade", FILES[name])
    errors = RowErrors()
    items = []
    for line, row in csv_rows(file):
        prompt = (row.get("问题") or "").strip()
        if not prompt:
            errors.add(file, line, "问题", "empty text")
            continue
        vtype = clean_label(row.get("违规类型"))
        vtype = TYPE_SPELLINGS.get(vtype or "", vtype)
        subtype = clean_label(row.get("违规子类"))
        scenario = map_subtype(subtype)
        items.append(EvalItem(
            id=f"{name}-{clean_label(row.get('ID')) or line}", prompt=prompt, kind="attack", scenario=scenario,
            norms=list(get_taxonomy().norms_for(scenario)),
            provenance=Provenance(source=name, source_id=clean_label(row.get("ID")), original_category=f"{vtype}/{subtype}"),
        ))
    errors.raise_if_any()
    return items


# One loader per question file, as the source registry names them.
load_v1 = partial(load_questions, name="jade-v1")
load_v2_easy = partial(load_questions, name="jade-v2-easy")
load_v2_medium = partial(load_questions, name="jade-v2-medium")


def load_v3(path: str | Path | None = None) -> list[PreferencePair]:
    """Alignment triples: chosen = 安全有用回答 (safe and helpful), rejected = 违规回答 (violating)."""
    file = resolve(path, "jade", FILES["jade-v3"])
    errors = RowErrors()
    pairs = []
    for line, row in csv_rows(file, encoding="gb18030"):
        question, bad, good = ((row.get(k) or "").strip() for k in ("问题", "违规回答", "安全有用回答"))
        for field, value in (("问题", question), ("违规回答", bad), ("安全有用回答", good)):
            if not value:
                errors.add(file, line, field, "empty text")
        if not (question and bad and good):
            continue
        if bad == good:
            errors.add(file, line, "违规回答", "chosen == rejected")
            continue
        pairs.append(PreferencePair(
            id=f"jade-v3-{clean_label(row.get('ID')) or line}", instruction=question, chosen=good, rejected=bad,
            provenance=Provenance(source="jade-v3", source_id=clean_label(row.get("ID")), method="publisher-triple"),
        ))
    errors.raise_if_any()
    return pairs
