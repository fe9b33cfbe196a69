"""The audit trail: one append-only ``audit`` row per security- or data-relevant action.

Each action is recorded in exactly one place, in the same transaction as the action itself (an
acknowledged rating always has its entry, a rolled-back one never does): logins in the login route,
everything else in the workflow / io function that does it. ``record`` only adds the row; the
caller's commit writes both.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from celm.server.models import Audit, User

ACTIONS = ("login", "login_failed", "import", "export", "batch_close", "user_created", "role_changed", "qualified",
           "rating", "adjudication", "review", "rating_superseded",
           # accounts, the competence test, red teaming, claims and restores (issue 32)
           "logout", "user_disabled", "user_enabled", "password_reset", "password_changed", "test_attempt",
           "test_replaced", "redteam_attempt", "redteam_mark", "skip", "claims_expired", "restore")


def record(s: Session, action: str, *, user: User | None = None, username: str | None = None, address: str | None = None,
           **details) -> Audit:
    if action not in ACTIONS:  # a typo here would hide entries from every filter
        raise ValueError(f"unknown audit action {action!r}")
    name = user.username if user is not None else username
    entry = Audit(action=action, user_id=user.id if user is not None else None, username=name[:64] if name else None,
                  address=address, details=details)
    s.add(entry)
    return entry


def parse_since(text: str | None) -> datetime | None:
    """``2026-12-01`` or an ISO time; a time with a zone is turned into UTC (entries are stored in UTC)."""
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.strip())
        return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t
    except (ValueError, OverflowError):  # OverflowError: a zone that moves 9999-12-31 past the calendar's end
        raise ValueError(f"since: {text[:40]!r} is not a date (YYYY-MM-DD) or an ISO time") from None


def entries(s: Session, *, since: datetime | None = None, action: str | None = None, username: str | None = None,
            before: int | None = None, limit: int = 100) -> list[Audit]:
    """Newest first. Pages by id (``before`` = the last id of the previous page): stable while new
    entries keep arriving, which offsets are not."""
    if action and action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    q = select(Audit).order_by(Audit.id.desc()).limit(max(1, min(limit, 10_000)))
    if since is not None:
        q = q.where(Audit.at >= since)
    if action:
        q = q.where(Audit.action == action)
    if username:
        q = q.where(Audit.username == username)
    if before is not None:
        q = q.where(Audit.id < before)
    return list(s.scalars(q))


def as_dict(e: Audit) -> dict:
    return {"id": e.id, "at": e.at.isoformat(timespec="seconds") + "Z", "user_id": e.user_id, "username": e.username,
            "action": e.action, "address": e.address, "details": e.details or {}}


def details_text(e: Audit) -> str:
    """The details as compact JSON with Chinese kept readable (pages and the CLI table)."""
    return json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True)
