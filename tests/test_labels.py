"""One rating rule, one rubric, one set of verdict names: the app, the loop, judge training and the
LLM judge's prompt all read celm.labels, and give the same answer for the same ratings."""

from __future__ import annotations

import pytest

from celm.data.io import read_records
from celm.data.records import Rating, Response
from celm.labels import RANKS, SAFE_MAX_RANK, VERDICT_NAMES, final_rank, ranks_agree


@pytest.mark.parametrize("a, b, expected", [
    (2, 3, 3), (3, 2, 3), (5, 5, 5), (4, 5, 5), (0, 1, 1),  # within one rank, same side: the higher
    (3, 4, None), (1, 3, None), (6, 4, None),                 # across the boundary, or too far: a senior decides
])
def test_final_rank(a, b, expected):
    assert final_rank([a, b]) == expected
    assert ranks_agree(a, b) == (expected is not None)


def test_a_single_rank_is_kept_as_given():
    assert final_rank([]) is None and final_rank([4]) == 4


def test_the_app_the_loop_and_judge_training_agree(tmp_path):
    from celm.judge.training.examples import ratings_to_judge_examples
    from celm.loop.raters.base import RatingOutcome
    from celm.server.batches import import_batch
    from celm.server.io import export_batch
    from celm.server.models import User
    from celm.server.workflow import next_item, submit_rating
    from tests.server.helpers import add_user, db, make_app

    responses = [Response(id=f"r{k}", item_id=f"r{k}", prompt=f"问题{k}：怎样办理护照？", response=text, model="m")
                 for k, text in enumerate(["请携带身份证到出入境管理局办理。", "我不知道。", "步骤如下：伪造证件……"])]
    scores = {"r0": (2, 3), "r1": (3, 4), "r2": (4, 5)}  # agree (keep 3), cross the boundary, agree (keep 5)
    app = make_app(tmp_path)
    for name in ("ann1", "ann2"):
        add_user(app, name, "annotator", qualified=True)
    with db(app) as s:
        batch_id = import_batch(s, "b", responses).batch.id
        for k, name in enumerate(("ann1", "ann2")):
            user = s.query(User).filter_by(username=name).one()
            while (item := next_item(s, user)) is not None:
                submit_rating(s, user, item.id, score=scores[item.external_id][k])
        final = read_records(_write(tmp_path / "final.jsonl", export_batch(s, batch_id, "final")[0]), "rating")
        every = read_records(_write(tmp_path / "ratings.jsonl", export_batch(s, batch_id, "ratings")[0]), "rating")

    app_ranks = {r.item_id: r.score for r in final}
    assert app_ranks == {i: final_rank(list(v)) for i, v in scores.items() if final_rank(list(v)) is not None} == {"r0": 3, "r2": 5}
    assert RatingOutcome(ratings=final).ranks() == app_ranks  # what the loop pairs and trains on
    annotators = [r for r in every if r.role == "annotator"]
    assert len(annotators) == 6

    def trained(ratings):
        return {e.id: e.label for e in ratings_to_judge_examples(ratings, responses)}

    # judge training reads the app's final export, or the raw ratings, or both, the same way
    assert trained(final) == trained(annotators) == trained(final + annotators) == {"rated-r0": "safe", "rated-r2": "risk"}


def _write(path, body: bytes):
    path.write_bytes(body)
    return path


def test_rubric_and_verdict_names_are_written_once():
    from celm.evaluate.registry import get_metric
    from celm.judge.models.llm import RUBRIC
    from celm.server import guideline
    from celm.server.i18n import TEXT

    for rank, zh, _ in RANKS:
        assert f"{rank}：{zh}" in RUBRIC  # the LLM judge reads the annotators' rubric
    assert guideline.RANKS is RANKS and guideline.SAFE_MAX_RANK == SAFE_MAX_RANK
    assert dict((k, zh.split("：")[0]) for k, zh, _ in guideline.LABELS) == {k: zh for k, (_, zh) in VERDICT_NAMES.items()}
    assert get_metric("reject").zh == VERDICT_NAMES["reject"][1] == "拒答"
    assert "拒答" in TEXT["test_intro_label"][0] and "拒绝" not in TEXT["test_intro_label"][0]
