"""What the workflow modules share: :class:`WorkflowError`, the request the workflow refuses, and
:func:`require`, the role check. The web app turns a ``WorkflowError`` into its HTTP status."""

from __future__ import annotations

from celm.server.models import User


class WorkflowError(Exception):
    """A request the workflow refuses (wrong state, not assigned, bad value); ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise WorkflowError("not allowed for your role", 403)
