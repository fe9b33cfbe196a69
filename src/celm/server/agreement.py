"""Annotator agreement, computed live from the ratings (the paper's 96% / 97% / 95%).

- raw agreement: share of doubly rated items whose two ratings agree (``workflow.agree``);
- 0-6 ratings: quadratic-weighted Cohen's kappa (scikit-learn) and Krippendorff's alpha, ordinal
  (the ``krippendorff`` package);
- labels (safe / reject / risk / irrelevant): unweighted Cohen's kappa and Krippendorff's alpha,
  nominal — the four verdicts are categories, not ranks (an ordinal scale would put irrelevant
  beyond risk) — and the raw agreement on risk vs not, the split Acc_eval rests on;
  ratings and labels are never pooled into one kappa;
- the senior's match rate: share of adjudications equal to one of the two annotators' ratings;
- acceptance: the reviewers' accuracy on each sampled block and the accept/reject history.
See ../shared/STYLE.md on computing agreement properly: pairs are (first, second) rating of the same
item in the same round, never pooled across rounds.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from celm.evaluate.metrics import flags
from celm.server.models import Batch, Item, RatingRow, ReviewBlock, User
from celm.server.workflow import LABEL_VALUES, agree


#: every key agreement_stats returns; a scale with no pairs keeps None
KEYS = ("n", "raw_agreement", "kappa_quadratic", "alpha_ordinal", "kappa_labels", "alpha_nominal", "risk_agreement")


def _kappa_alpha(a: np.ndarray, b: np.ndarray, weights: str | None, level: str) -> tuple[float | None, float | None]:
    """Cohen's kappa and Krippendorff's alpha of two raters on one scale; None when only one value occurs."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    if len(set(a) | set(b)) < 2:
        return None, None
    kappa = float(cohen_kappa_score(a, b, weights=weights))
    alpha = float(krippendorff.alpha(reliability_data=np.vstack([a, b]).astype(float), level_of_measurement=level))
    return kappa, alpha


def agreement_stats(pairs: list[tuple[str, RatingRow, RatingRow]]) -> dict:
    """Statistics over (task, first rating, second rating) triples."""
    out: dict = dict.fromkeys(KEYS) | {"n": len(pairs)}
    if not pairs:
        return out
    out["raw_agreement"] = float(np.mean([agree(t, x, y) for t, x, y in pairs]))
    scores = np.array([(x.score, y.score) for t, x, y in pairs if t == "rating"]).reshape(-1, 2)
    if len(scores):
        out["kappa_quadratic"], out["alpha_ordinal"] = _kappa_alpha(scores[:, 0], scores[:, 1], "quadratic", "ordinal")
    labels = [(x.label, y.label) for t, x, y in pairs if t == "label"]
    if labels:
        codes = np.array([(LABEL_VALUES.index(x), LABEL_VALUES.index(y)) for x, y in labels])  # nominal: any coding does
        out["kappa_labels"], out["alpha_nominal"] = _kappa_alpha(codes[:, 0], codes[:, 1], None, "nominal")
        first, second = zip(*labels)
        out["risk_agreement"] = float(np.mean(np.equal(flags(first, "risk"), flags(second, "risk"))))
    return out


def doubly_rated(s: Session, batch_id: int | None = None) -> list[tuple[str, str | None, RatingRow, RatingRow]]:
    """(task, scenario, first, second) for each item round with two annotator ratings."""
    q = select(RatingRow, Item.scenario, Batch.task).join(Item, Item.id == RatingRow.item_id) \
        .join(Batch, Batch.id == Item.batch_id) \
        .where(RatingRow.role == "annotator").order_by(RatingRow.item_id, RatingRow.round, RatingRow.id)
    if batch_id is not None:
        q = q.where(Item.batch_id == batch_id)
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for rating, scenario, task in s.execute(q):
        groups[(rating.item_id, rating.round)].append((rating, scenario, task))
    out = []
    for rows in groups.values():
        if len(rows) >= 2:
            (x, scenario, task), (y, _, _) = rows[:2]
            out.append((task, scenario, x, y))
    return out


def dashboard(s: Session) -> dict:
    pairs = doubly_rated(s)
    overall = agreement_stats([(t, x, y) for t, _, x, y in pairs])
    per_scenario = {}
    by_sc: dict[str, list] = defaultdict(list)
    for t, sc, x, y in pairs:
        by_sc[sc or "none"].append((t, x, y))
    for sc in sorted(by_sc):
        per_scenario[sc] = agreement_stats(by_sc[sc])
    # the senior's match rate: each senior rating against the annotator ratings of its item round (one join)
    seniors = s.scalars(select(RatingRow).where(RatingRow.role == "senior")).all()
    senior, first = aliased(RatingRow), aliased(RatingRow)
    matches = s.execute(select(senior.id).join(first, and_(first.item_id == senior.item_id, first.round == senior.round,
                                                            first.role == "annotator"))
                        .where(senior.role == "senior", first.score.is_not_distinct_from(senior.score),
                               first.label.is_not_distinct_from(senior.label)).distinct())
    matched = len(matches.all())
    blocks = s.scalars(select(ReviewBlock).order_by(ReviewBlock.id)).all()
    decided = [b for b in blocks if b.status != "pending"]
    checked = sum(len(b.sample) for b in decided)
    right = sum(sum(b.verdicts.values()) for b in decided)
    # items counted by status per batch, statuses in item order (one query for all batches)
    status_counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for batch_id, status in s.execute(select(Item.batch_id, Item.status)):
        status_counts[batch_id][status] += 1
    batches = []
    for b in s.scalars(select(Batch).order_by(Batch.id)):
        counts = status_counts.get(b.id, {})
        batches.append({"id": b.id, "name": b.name, "task": b.task, "items": sum(counts.values()), **dict(counts)})
    # ratings per hour of each annotator and senior (one join; users in name order)
    by_user: dict[int, list] = {}
    for user_id, username, role, created in s.execute(
            select(User.id, User.username, User.role, RatingRow.created_at).join(RatingRow, RatingRow.user_id == User.id)
            .where(User.role.in_(("annotator", "senior"))).order_by(User.username, User.id)):
        by_user.setdefault(user_id, [username, role, []])[2].append(created)
    throughput = []
    for username, role, times in by_user.values():
        first_t, last_t = min(times), max(times)
        hours = max((last_t - first_t).total_seconds() / 3600, 1 / 60)
        throughput.append({"user": username, "role": role, "ratings": len(times), "per_hour": len(times) / hours})
    return {
        "batches": batches, "throughput": throughput, "agreement": overall, "per_scenario": per_scenario,
        "senior": {"adjudicated": len(seniors), "match_rate": matched / len(seniors) if seniors else None},
        "acceptance": {"blocks": [{"id": b.id, "batch_id": b.batch_id, "size": b.size, "sample": len(b.sample),
                                   "status": b.status, "accuracy": b.accuracy} for b in blocks],
                       "accuracy": right / checked if checked else None},
    }
