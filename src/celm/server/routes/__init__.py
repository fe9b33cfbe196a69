"""The app's routes, one module per area; each has ``roles``, a :class:`~celm.server.routes.common.RoleRouter`
whose routes declare the roles that may use them (the few public routes, in
:mod:`celm.server.routes.auth`, declare none). :func:`celm.server.app.create_app` includes them in :data:`ROUTERS` order."""

from celm.server.routes import account, adjudicate, admin, annotate, auth, dashboard, redteam, review
from celm.server.routes.common import NAV, check_nav

ROUTERS = (auth.roles, annotate.roles, adjudicate.roles, review.roles, dashboard.roles, admin.roles, redteam.roles,
           account.roles)

__all__ = ["NAV", "ROUTERS", "check_nav"]
