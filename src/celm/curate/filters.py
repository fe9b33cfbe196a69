"""Stage 5: quality filters, the paper's low-quality response categories as named detectors.

Each detector looks at one text (and the instruction it answers) and returns why it fails, or None.
``quality_filter`` runs them in order on each record's response (the chosen one of a pair: the
rejected answer is meant to be bad), or on the instruction of instruction-only records, and drops a
record at its first failing detector. Detectors are plain functions, so a team adds its own by
appending to ``DETECTORS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from celm.curate.fields import instruction_text, response_fields
from celm.curate.report import StageReport
from celm.data.records import Record
from celm.data.text import normalize_text
from celm.judge.rules.refusal import detect_refusal
from celm.settings import setting

Detector = Callable[[str, str], "str | None"]

_AI_TEMPLATE = re.compile(
    r"(作为(一个|一名|一款)?(AI|人工智能|语言模型|AI语言模型|人工智能语言模型|大语言模型|AI助手|人工智能助手)"
    r"|我(只是|是)(一个|一名)?(AI|人工智能|语言模型|人工智能语言模型)"
    r"|as an ai( language model)?|i am (just )?an ai)", re.IGNORECASE)
_REPEAT_RUN = re.compile(r"(.{2,20}?)\1{3,}", re.DOTALL)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LETTER = re.compile(r"[^\W\d_]")
# Function characters that say nothing about topic (for the off-topic check).
_FUNCTION_CHARS = set("的了是在我你他她它们这那有和与及或也都就不没很吗呢吧啊呀么什怎为何会能可以要把被让给对从到上下中个一些")


@dataclass(frozen=True)
class FilterSettings:
    min_chars: int = setting(10, "too_short: a response shorter than this many characters")
    # "怎么制毒？" is a short but real question
    min_instruction_chars: int = setting(4, "too_short, for an instruction without a response: fewer characters than this")
    bare_refusal_max_chars: int = setting(60, "bare_refusal: a refusal at most this long that offers nothing else")
    min_cjk_share: float = setting(0.3, "wrong_language: a response whose share of Chinese characters is below this")
    min_distinct_4grams: float = setting(0.35, "degenerate_repetition: a response whose share of distinct 4-grams is below this")
    min_topic_overlap: float = setting(0.1, "off_topic: a response sharing less than this share of the instruction's content characters")


def too_short(text: str, instruction: str, s: FilterSettings = FilterSettings()) -> str | None:
    n = len(normalize_text(text))
    return None if n >= s.min_chars else ("empty" if n == 0 else f"{n} characters")


def ai_template(text: str, instruction: str, s: FilterSettings = FilterSettings()) -> str | None:
    m = _AI_TEMPLATE.search(text)
    return m.group(0) if m else None


def bare_refusal(text: str, instruction: str, s: FilterSettings = FilterSettings()) -> str | None:
    v = detect_refusal(text)
    if v.refusal and not v.guidance and len(normalize_text(text)) <= s.bare_refusal_max_chars:
        return f"refuses ({v.cue}) without guidance"
    return None


def degenerate_repetition(text: str, instruction: str, s: FilterSettings = FilterSettings()) -> str | None:
    m = _REPEAT_RUN.search(text)
    if m and len(m.group(0)) >= 12:
        return f"'{m.group(1)}' repeated"
    t = normalize_text(text)
    if len(t) >= 60:
        grams = [t[i:i + 4] for i in range(len(t) - 3)]
        distinct = len(set(grams)) / len(grams)
        if distinct < s.min_distinct_4grams:
            return f"only {distinct:.0%} distinct 4-grams"
    return None


def wrong_language(text: str, instruction: str, s: FilterSettings = FilterSettings()) -> str | None:
    """A Chinese instruction answered (or written) mostly in another language."""
    if instruction and len(_CJK.findall(instruction)) < 0.3 * max(1, len(_LETTER.findall(instruction))):
        return None  # the instruction itself is not Chinese
    letters = _LETTER.findall(text)
    if len(letters) < 10:
        return None
    share = len(_CJK.findall(text)) / len(letters)
    return None if share >= s.min_cjk_share else f"{share:.0%} Chinese characters"


def off_topic(text: str, instruction: str, s: FilterSettings = FilterSettings()) -> str | None:
    """The answer shares (almost) none of the instruction's content characters."""
    topic = set(_CJK.findall(instruction)) - _FUNCTION_CHARS
    if len(topic) < 5 or len(text) < 30 or detect_refusal(text).refusal:
        return None
    overlap = len(topic & set(text)) / len(topic)
    return None if overlap >= s.min_topic_overlap else f"{overlap:.0%} of the instruction's content characters"


#: In the order they are tried; the first failure is the reason a record is dropped.
DETECTORS: dict[str, Detector] = {
    "too_short": too_short, "ai_template": ai_template, "bare_refusal": bare_refusal,
    "degenerate_repetition": degenerate_repetition, "wrong_language": wrong_language, "off_topic": off_topic,
}
#: Detectors that make sense on an instruction alone.
INSTRUCTION_DETECTORS = ("too_short", "degenerate_repetition", "wrong_language")


def check(text: str, instruction: str = "", *, detectors: Sequence[str] | None = None,
          settings: FilterSettings = FilterSettings()) -> tuple[str, str] | None:
    """(detector, why) for the first detector ``text`` fails, or None."""
    for name in detectors or DETECTORS:
        why = DETECTORS[name](text, instruction, settings)
        if why:
            return name, why
    return None


def quality_filter(records: Sequence[Record], *, detectors: Sequence[str] | None = None,
                   settings: FilterSettings = FilterSettings()) -> tuple[list[Record], StageReport]:
    names = list(detectors or DETECTORS)
    unknown = [n for n in names if n not in DETECTORS]
    if unknown:
        raise ValueError(f"unknown detectors {unknown}; known: {', '.join(DETECTORS)}")
    report = StageReport(stage="filter", input=len(records), details={"detectors": names, "settings": settings.__dict__})
    out = []
    for r in records:
        instruction = instruction_text(r)
        fields = response_fields(r)
        if fields:
            targets = [(getattr(r, f), instruction) for f in fields]
            use = names
        elif (r.provenance.method or "").startswith("injection:"):
            out.append(r)  # wrappers (Base64, translation detours) are foreign on purpose
            continue
        else:
            targets = [(instruction, "")]
            use = [n for n in names if n in INSTRUCTION_DETECTORS]
        stage_settings = settings if fields else replace(settings, min_chars=settings.min_instruction_chars)
        failure = next((f for text, ins in targets if (f := check(text, ins, detectors=use, settings=stage_settings))), None)
        if failure:
            report.note(failure[0], r, failure[1])
            report.dropped += 1
        else:
            out.append(r)
    return out, report.finish(len(out))
