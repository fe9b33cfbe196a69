"""Progress, agreement and throughput (page and API) — admins, seniors and reviewers."""

from __future__ import annotations

from celm.server import agreement
from celm.server.io import EXPORT_KINDS
from celm.server.routes.common import RoleRouter, page

roles = RoleRouter()
DASHBOARD_ROLES = ("admin", "senior", "reviewer")


@roles.route("GET", "/dashboard", DASHBOARD_ROLES)
def dashboard_page(request, auth):
    return page(request, auth, "dashboard.html", d=agreement.dashboard(auth.db), export_kinds=EXPORT_KINDS)


@roles.route("GET", "/api/dashboard", DASHBOARD_ROLES, api=True)
def dashboard_api(request, auth):
    return agreement.dashboard(auth.db)
