"""Accounts: look-ups, creating one, changing its role, disabling / enabling one, setting its
password, ending a login session. User names follow :mod:`celm.server.usernames`, passwords
:mod:`celm.server.passwords`.

Each function that changes something records it in the audit trail in the same transaction
(``address``: the client's, passed in by the web app; empty for scripts)."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from celm.server import audit
from celm.server.errors import WorkflowError, require
from celm.server.models import ROLES, User, WebSession
from celm.server.passwords import check_password
from celm.server.usernames import lookup_key, name_key


def user_by_name(s: Session, username: str) -> User | None:
    """The account a typed name means: compared NFKC + case-folded; an exact match also finds an
    account from before names were normalised whose folded name another account holds."""
    key = lookup_key(username)
    conditions = [User.username == username] + ([User.name_key == key] if key else [])
    found = list(s.scalars(select(User).where(or_(*conditions))))
    exact = [u for u in found if u.username == username]
    return (exact or found or [None])[0]


def users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.id)))


def usernames(s: Session) -> dict[int, str]:
    """User id -> user name, for every user."""
    return {u.id: u.username for u in s.scalars(select(User))}


def end_session(s: Session, ws: WebSession, *, address: str | None = None) -> None:
    """Log out: the server-side session is gone, so its cookie no longer works."""
    user = s.get(User, ws.user_id)
    audit.record(s, "logout", user=user, address=address)
    s.delete(ws)
    s.commit()


def end_all_sessions(s: Session, user: User) -> int:
    """Every login session of ``user`` ends (no commit: the caller's change commits with it)."""
    return s.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount


def create_user(s: Session, username: str, password: str, role: str, *, by: User | None = None,
                address: str | None = None) -> User:
    """``by``: the admin creating the account (None from the command line)."""
    from celm.server.security import hash_password
    from celm.server.usernames import normalize

    username = normalize(username)
    if role not in ROLES:
        raise WorkflowError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    check_password(password, role=role, username=username)
    key = name_key(username)
    if s.scalar(select(User).where(or_(User.name_key == key, User.username == username))):
        raise WorkflowError(f"user {username!r} exists (names are compared ignoring case and width)", 409)
    # seniors and reviewers are experienced annotators; only new annotators take the test
    user = User(username=username, name_key=key, password_hash=hash_password(password), role=role,
                qualified=role != "annotator", qualified_label=role != "annotator")
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
    if role == "admin":  # an admin's password must meet the admin length; it cannot be checked here (hashed)
        raise WorkflowError("create admins with `celm serve create-user NAME --role admin` (an admin's password "
                            "must be at least 12 characters, which an existing password cannot be checked for)", 409)
    old = user.role
    experienced = role != "annotator" or old in ("senior", "reviewer")
    user.qualified = experienced or (old == "annotator" and user.qualified)
    user.qualified_label = experienced or (old == "annotator" and user.qualified_label)
    user.role = role
    audit.record(s, "role_changed", user=admin, address=address, target=user.username, target_id=user.id, old=old, new=role)
    s.commit()
    return user


def _target(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise WorkflowError("no such user", 404)
    return user


def set_active(s: Session, user_id: int, active: bool, *, by: User | None = None, address: str | None = None) -> User:
    """Disable or enable an account. Disabling ends every session of it at once and gives its
    unrated item claims back to the queue; its ratings and audit entries stay. ``by``: the admin (None from the command line), who cannot disable themself."""
    if by is not None:
        require(by, "admin")
    user = _target(s, user_id)
    if by is not None and user.id == by.id and not active:
        raise WorkflowError("you cannot disable your own account", 409)
    from celm.server.workflow import release_claims_of

    ended, released = (end_all_sessions(s, user), release_claims_of(s, user)) if not active else (0, [])
    if user.active != active:
        user.active = active
        audit.record(s, "user_enabled" if active else "user_disabled", user=by, address=address, target=user.username,
                     target_id=user.id, sessions_ended=ended, **({"claims_released": released} if released else {}))
    s.commit()
    return user


def set_password(s: Session, user_id: int, password: str, *, by: User | None = None, address: str | None = None,
                 current: str | None = None) -> User:
    """A new password (the policy of :mod:`celm.server.passwords`); every session of the account ends,
    so a stolen session does not outlive the reset. A user changing their own (``by`` is the user)
    gives ``current``; an admin resetting another's, or the command line, does not."""
    from celm.server.security import hash_password, verify_password

    user = _target(s, user_id)
    own = by is not None and by.id == user.id
    if by is not None and not own:
        require(by, "admin")
    if own and not verify_password(user.password_hash, current or ""):
        raise WorkflowError("the current password is wrong (当前密码不正确)", 422)
    check_password(password, role=user.role, username=user.username)
    user.password_hash = hash_password(password)
    ended = end_all_sessions(s, user)
    audit.record(s, "password_changed" if own else "password_reset", user=by, address=address, target=user.username,
                 target_id=user.id, sessions_ended=ended)
    s.commit()
    return user
