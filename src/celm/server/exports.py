"""From finished items to celm files, and to/from Label Studio and Argilla.

- SFT examples and preference pairs: the shared rule of :mod:`celm.data.pairing` on the items' final
  ranks (SFT: final rank 0-1, one per distinct text; pairs: per instruction, every two responses of
  different rank, ties discarded, as in the paper);
- human safety labels (label task): JudgeExample files that ``celm judge calibrate`` reads;
- ratings: celm Rating records, one per annotator/senior rating;
- final: celm Rating records with role ``final``, one per finished item: its decided rank or label.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from celm.data.pairing import RankedResponse, rank_pairs, top_ranked_sft
from celm.data.records import JudgeExample, PreferencePair, Provenance, Rating, SFTExample
from celm.server.models import Batch, Item, RatingRow, User, now


def _done(s: Session, batch_id: int) -> list[Item]:
    return list(s.scalars(select(Item).where(Item.batch_id == batch_id, Item.status == "done").order_by(Item.id)))


def _prov(item: Item, batch: Batch, method: str) -> Provenance:
    return Provenance(source=f"celm-annotate:{batch.name}", source_id=item.external_id, method=method,
                      details={"final_score": item.final_score, "final_label": item.final_label, "model": item.model})


def _ranked(s: Session, batch_id: int) -> list[RankedResponse]:
    """The batch's finished items that have a final rank (a label task's items have none)."""
    return [RankedResponse(id=i.external_id, instruction=i.instruction, response=i.response, rank=i.final_score,
                           scenario=i.scenario, norms=tuple(i.norms or []),
                           details={"final_score": i.final_score, "final_label": i.final_label, "model": i.model})
            for i in _done(s, batch_id) if i.final_score is not None]


def sft_examples(s: Session, batch_id: int) -> list[SFTExample]:
    batch = s.get(Batch, batch_id)
    return top_ranked_sft(_ranked(s, batch_id), source=f"celm-annotate:{batch.name}", method="human-rated")


def preference_pairs(s: Session, batch_id: int) -> list[PreferencePair]:
    batch = s.get(Batch, batch_id)
    return rank_pairs(_ranked(s, batch_id), source=f"celm-annotate:{batch.name}", method="human-ranked").pairs


def human_labels(s: Session, batch_id: int) -> list[JudgeExample]:
    batch = s.get(Batch, batch_id)
    return [JudgeExample(id=i.external_id, instruction=i.instruction, response=i.response, label=i.final_label,
                         scenario=i.scenario, norms=i.norms or [], provenance=_prov(i, batch, "human-label"))
            for i in _done(s, batch_id) if i.final_label]


def rating_records(s: Session, batch_id: int) -> list[Rating]:
    rows = s.execute(select(RatingRow, Item, User).join(Item, Item.id == RatingRow.item_id)
                     .join(User, User.id == RatingRow.user_id)
                     .where(Item.batch_id == batch_id, RatingRow.score.is_not(None) | RatingRow.label.is_not(None))
                     .order_by(RatingRow.id))
    # a label task's ratings come too: each pass and the senior's decision are what agreement is computed from
    return [Rating(id=f"rating-{r.id}", item_id=i.external_id, annotator=u.username, role=r.role, score=r.score,
                   label=r.label, safety_flag=r.safety_flag, comment=r.comment or None, time=r.created_at,
                   scenario=i.scenario, norms=i.norms or [],
                   provenance=Provenance(source="celm-annotate", details={"round": r.round}))
            for r, i, u in rows]


def final_ratings(s: Session, batch_id: int) -> list[Rating]:
    """One ``final`` Rating per finished item: the decided rank (or label) of its current round, from two
    agreeing annotators or the senior (``adjudicated``)."""
    batch = s.get(Batch, batch_id)
    adjudicated = set(s.scalars(select(RatingRow.item_id).join(Item, Item.id == RatingRow.item_id)
                                .where(Item.batch_id == batch_id, RatingRow.role == "senior",
                                       RatingRow.round == Item.round)))
    return [Rating(id=f"final-{i.external_id}", item_id=i.external_id, annotator="app", role="final",
                   score=i.final_score, label=i.final_label, time=i.finished_at or now(), scenario=i.scenario,
                   norms=i.norms or [],
                   provenance=Provenance(source=f"celm-annotate:{batch.name}", source_id=i.external_id, method="final",
                                         details={"round": i.round, "adjudicated": i.id in adjudicated,
                                                  "model": i.model}))
            for i in _done(s, batch_id)]


# -- Label Studio and Argilla ----------------------------------------------------------------------

def _annotations(s: Session, item: Item):
    return s.execute(select(RatingRow, User).join(User, User.id == RatingRow.user_id)
                     .where(RatingRow.item_id == item.id, RatingRow.round == item.round).order_by(RatingRow.id)).all()


def to_label_studio(s: Session, batch_id: int) -> list[dict]:
    """Label Studio tasks (``data`` + ``annotations`` with a ``choices`` result named ``rating``)."""
    batch = s.get(Batch, batch_id)
    tasks = []
    for item in s.scalars(select(Item).where(Item.batch_id == batch_id).order_by(Item.id)):
        anns = [{"completed_by": {"email": u.username}, "result": [{
            "from_name": "rating", "to_name": "response", "type": "choices",
            "value": {"choices": [str(r.score) if batch.task == "rating" else r.label]}}]}
            for r, u in _annotations(s, item)]
        tasks.append({"id": item.id, "data": {"id": item.external_id, "instruction": item.instruction, "response": item.response,
                                              "scenario": item.scenario, "norms": item.norms or []}, "annotations": anns})
    return tasks


def to_argilla(s: Session, batch_id: int) -> list[dict]:
    """Argilla 2.x records: ``fields``, ``metadata`` and submitted ``responses`` for a ``rating`` question."""
    batch = s.get(Batch, batch_id)
    out = []
    for item in s.scalars(select(Item).where(Item.batch_id == batch_id).order_by(Item.id)):
        responses = [{"user_id": u.username, "status": "submitted",
                      "values": {"rating": {"value": r.score if batch.task == "rating" else r.label}}}
                     for r, u in _annotations(s, item)]
        out.append({"id": item.external_id, "fields": {"instruction": item.instruction, "response": item.response},
                    "metadata": {"scenario": item.scenario, "norms": item.norms or []}, "responses": responses})
    return out


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _names(value) -> list[str]:
    return [n for n in _list(value) if isinstance(n, str)]


def _text(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def rows_from_label_studio(tasks: list) -> tuple[list[dict], list[tuple[str, str, str]], list[tuple[int, str]]]:
    """Items and their annotations (external id, annotator, value) from a Label Studio export, and
    the tasks that are not items: (position from 1, why). Each row's ``position`` is its task's."""
    rows, anns, bad = [], [], []
    for k, t in enumerate(tasks, start=1):
        data = _dict(_dict(t).get("data"))
        if not _text(data.get("instruction")) or not _text(data.get("response")):
            bad.append((k, "data.instruction and data.response (text) are required"))
            continue
        ext = str(data.get("id") or t.get("id") or k)
        rows.append({"external_id": ext, "instruction": data["instruction"], "response": data["response"],
                     "scenario": _text(data.get("scenario")), "norms": _names(data.get("norms")), "position": k})
        for a in _list(t.get("annotations")):
            a = _dict(a)
            who = _dict(a.get("completed_by")).get("email") if isinstance(a.get("completed_by"), dict) else str(a.get("completed_by"))
            for res in _list(a.get("result")):
                choices = _list(_dict(_dict(res).get("value")).get("choices"))
                if choices:
                    anns.append((ext, str(who), str(choices[0])))
    return rows, anns, bad


def rows_from_argilla(records: list) -> tuple[list[dict], list[tuple[str, str, str]], list[tuple[int, str]]]:
    """As :func:`rows_from_label_studio`, from Argilla 2.x records."""
    rows, anns, bad = [], [], []
    for k, r in enumerate(records, start=1):
        fields = _dict(_dict(r).get("fields"))
        if not _text(fields.get("instruction")) or not _text(fields.get("response")):
            bad.append((k, "fields.instruction and fields.response (text) are required"))
            continue
        ext = str(r.get("id") or k)
        meta = _dict(r.get("metadata"))
        rows.append({"external_id": ext, "instruction": fields["instruction"], "response": fields["response"],
                     "scenario": _text(meta.get("scenario")), "norms": _names(meta.get("norms")), "position": k})
        for resp in _list(r.get("responses")):
            resp = _dict(resp)
            values = _dict(resp.get("values"))
            if resp.get("status", "submitted") == "submitted" and "rating" in values:
                anns.append((ext, str(resp.get("user_id")), str(_dict(values["rating"]).get("value"))))
    return rows, anns, bad
