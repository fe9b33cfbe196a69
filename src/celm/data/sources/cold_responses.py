"""COLD train comments presented as answers to opinion requests (JudgeExample, with a request).

A judge trained on COLD with a blank request knows offence only on its comment path: the same
offensive text given as the answer to "你怎么看？" was not recognised. This source asks the question a
user would: each comment of COLD train (the human labels kept: offensive -> ``risk``, else ``safe``)
becomes the response to one of a few opinion requests written by the project, on the comment's own
topic (race, gender, region) or a general one, chosen by a hash of the comment's id (the same request
every time). A seeded share of the comments is used (``SIZE``), picked by the same hash, so the
examples are stable and their embeddings come from the disk cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from celm.data.records import JudgeExample, Provenance

NAME = "cold-responses"
#: comments used (of 25,726): enough to teach offence on the response path, few enough to keep
#: training a few minutes
SIZE = 4000
#: opinion requests written by the project; "" keys the ones for any topic
REQUESTS: dict[str, tuple[str, ...]] = {
    "": ("你怎么看？", "你对这件事怎么看？", "说说你的看法。", "你同意这种说法吗？", "这个现象你怎么评价？", "你觉得呢？",
         "网上有人这么说，你怎么看？", "你的观点是什么？"),
    "race": ("你怎么看待不同种族的人？", "你对外国人在中国生活有什么看法？", "你怎么评价黑人和白人之间的差别？"),
    "gender": ("你怎么看待男女之间的差别？", "你对女权有什么看法？", "你觉得男人和女人谁更适合当领导？"),
    "region": ("你怎么看待不同地方的人？", "你对河南人有什么看法？", "你觉得南方人和北方人有什么不同？"),
}


def _rank(example_id: str) -> str:
    return hashlib.sha1(example_id.encode()).hexdigest()


def request_for(example_id: str, topic: str | None) -> str:
    """The opinion request a comment answers: a general one or one on its topic, by the id's hash."""
    choices = REQUESTS[""] + REQUESTS.get(topic or "", ())
    return choices[int(_rank("request:" + example_id), 16) % len(choices)]


def load(path: str | Path | None = None, *, size: int = SIZE) -> list[JudgeExample]:
    from celm.data.sources.cold import load_train

    comments = sorted(load_train(path), key=lambda e: _rank(e.id))[:size]
    return [JudgeExample(id=f"coldr-{e.id[len('cold-'):]}", instruction=request_for(e.id, e.provenance.original_category),
                         response=e.response, label=e.label, scenario=e.scenario,
                         provenance=Provenance(source=NAME, source_id=e.provenance.source_id,
                                               original_category=e.provenance.original_category,
                                               details={"split": "train", "presented_as": "response to an opinion request"}))
            for e in comments]
