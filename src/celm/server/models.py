"""The tables. Ratings are unique per (item, rater, role, round), so a repeated submission can
never count twice, and a returned batch keeps its old ratings (superseded) for the record. The
audit trail is append-only: the ORM refuses to update or delete it, and so does the database
(triggers made by migration 0002)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celm.server.db import Base

ROLES = ("admin", "annotator", "senior", "reviewer", "redteamer")


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # the name as compared (NFKC + case-folded, celm.server.usernames): "Admin" and "ａｄｍｉｎ" are "admin" (migration 0005)
    name_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    qualified: Mapped[bool] = mapped_column(Boolean, default=False)  # passed the competence test (0-6 ratings)
    # passed the label test (four verdicts): needed for label batches (migration 0003)
    qualified_label: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class WebSession(Base):
    __tablename__ = "sessions"
    # SHA-256 of the cookie's token (hex): a copy of the database opens no session (migration 0005)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=now)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)  # for the absolute lifetime


class TestQuestion(Base):
    __tablename__ = "test_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    instruction: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    # the answer key: a rank 0-6 (the rating test) or a verdict (the label test); one of the two is set
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    label: Mapped[str | None] = mapped_column(String(16), nullable=True)


class TestAttempt(Base):
    """One attempt at a test: drawn (``questions``: the ids shown) when the annotator opens the test,
    graded when they submit (``finished_at`` set). Migration 0005 added the draw."""

    __tablename__ = "test_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(16), default="rating")
    questions: Mapped[list | None] = mapped_column(JSON, nullable=True)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(16), default="rating")  # rating (0-6) | label (safe/reject/risk/irrelevant)
    source: Mapped[str] = mapped_column(String(500), default="")
    # the batch this one is a new round of: its items were imported again on purpose (no foreign key:
    # batches are never deleted, and a plain column needs no table rebuild on SQLite)
    round_of: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    items: Mapped[list["Item"]] = relationship(back_populates="batch")


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200), index=True)  # looked up on every import (re-import check)
    instruction: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200), default="")
    scenario: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    norms: Mapped[list] = mapped_column(JSON, default=list)
    round: Mapped[int] = mapped_column(Integer, default=1)  # bumped when a rejected block is returned
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | disagreement | done
    assigned: Mapped[int] = mapped_column(Integer, default=0)  # annotators holding it this round (at most 2)
    final_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    final_label: Mapped[str | None] = mapped_column(String(16), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("review_blocks.id"), nullable=True, index=True)
    batch: Mapped[Batch] = relationship(back_populates="items")
    __table_args__ = (UniqueConstraint("batch_id", "external_id"), Index("ix_items_queue", "status", "assigned", "id"))


class Assignment(Base):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    slot: Mapped[int] = mapped_column(Integer)  # 1 or 2: a third concurrent grab of an item fails on the constraint
    # when the item was claimed: a claim never rated is released after settings.claim_ttl_s (migration 0005)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, default=now, nullable=True)
    __table_args__ = (UniqueConstraint("item_id", "user_id", "round"), UniqueConstraint("item_id", "round", "slot"))


class RatingRow(Base):
    """One stored rating (table ``ratings``); exported as celm.data.records.Rating records."""

    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # annotator | senior
    round: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    label: Mapped[str | None] = mapped_column(String(16), nullable=True)
    safety_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    __table_args__ = (UniqueConstraint("item_id", "user_id", "role", "round"),)


class ReviewBlock(Base):
    __tablename__ = "review_blocks"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    sample: Mapped[list] = mapped_column(JSON, default=list)  # item ids the reviewer checks
    verdicts: Mapped[dict] = mapped_column(JSON, default=dict)  # item id -> correct?
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted | rejected
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class RedTeamAttempt(Base):
    __tablename__ = "redteam_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(200))
    response: Mapped[str] = mapped_column(Text, default="")
    judge_label: Mapped[str] = mapped_column(String(16), default="")
    judge_p_risk: Mapped[float] = mapped_column(Float, default=0.0)
    unsafe: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # the red-teamer's own mark
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Audit(Base):
    """Who did what, when, from where. ``user_id``/``username`` are empty for actions from the command
    line or a script; for a failed login ``username`` is the name that was tried. No foreign key to
    users: an entry outlives anything it mentions."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)  # UTC
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AppendOnly(Exception):
    """An attempt to change or remove an audit entry."""


@event.listens_for(Audit, "before_update")
@event.listens_for(Audit, "before_delete")
def _audit_is_append_only(mapper, connection, target):  # noqa: ANN001
    raise AppendOnly(f"audit entry {target.id} cannot be changed or deleted: the audit trail is append-only")
