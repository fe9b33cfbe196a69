"""Accounts: look-ups, creating one, changing its role, ending a login session.

Each function that changes something records it in the audit trail in the same transaction
(``address``: the client's, passed in by the web app; empty for scripts)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from celm.server import audit
from celm.server.errors import WorkflowError, require
from celm.server.models import ROLES, User, WebSession


def user_by_name(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))


def users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.id)))


def usernames(s: Session) -> dict[int, str]:
    """User id -> user name, for every user."""
    return {u.id: u.username for u in s.scalars(select(User))}


def end_session(s: Session, ws: WebSession) -> None:
    """Log out: the server-side session is gone, so its cookie no longer works."""
    s.delete(ws)
    s.commit()


def create_user(s: Session, username: str, password: str, role: str, *, by: User | None = None,
                address: str | None = None) -> User:
    """``by``: the admin creating the account (None from the command line)."""
    from celm.server.security import hash_password

    username = username.strip()
    if role not in ROLES:
        raise WorkflowError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise WorkflowError("user name must be 1-64 characters")
    if len(password) < 8:
        raise WorkflowError("password must be at least 8 characters")
    if s.scalar(select(User).where(User.username == username)):
        raise WorkflowError(f"user {username!r} exists", 409)
    # seniors and reviewers are experienced annotators; only new annotators take the test
    user = User(username=username, password_hash=hash_password(password), role=role, qualified=role != "annotator",
                qualified_label=role != "annotator")
    s.add(user)
    s.flush()
    audit.record(s, "user_created", user=by, address=address, new_user=username, new_user_id=user.id, role=role)
    s.commit()
    return user


def set_role(s: Session, admin: User, user_id: int, role: str, *, address: str | None = None) -> User:
    """Give an account another role. A new annotator takes the competence test unless they were a
    senior or reviewer (experienced annotators); admins cannot change their own role (and so cannot
    leave the app without one by mistake)."""
    require(admin, "admin")
    if role not in ROLES:
        raise WorkflowError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    user = s.get(User, user_id)
    if user is None:
        raise WorkflowError("no such user", 404)
    if user.id == admin.id:
        raise WorkflowError("you cannot change your own role", 409)
    if user.role == role:
        return user
    old = user.role
    experienced = role != "annotator" or old in ("senior", "reviewer")
    user.qualified = experienced or (old == "annotator" and user.qualified)
    user.qualified_label = experienced or (old == "annotator" and user.qualified_label)
    user.role = role
    audit.record(s, "role_changed", user=admin, address=address, target=user.username, target_id=user.id, old=old, new=role)
    s.commit()
    return user
