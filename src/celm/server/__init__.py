"""The annotation and red-teaming web app (``celm serve``): FastAPI + SQLAlchemy 2, server-rendered pages.

The workflow logic lives in :mod:`celm.server.workflow` (rating and adjudication) and its sibling
modules (users, competence, batches, review, redteam) as plain functions on a database session,
so scripts can do whatever the pages do; :mod:`celm.server.app` only maps HTTP onto it.
"""

from celm.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def create_app(settings: ServerSettings | None = None):
    from celm.server.app import create_app as _create

    return _create(settings)
