"""Accounts: a user's own password (every role), and the admin's controls over other accounts
(disable, enable, reset the password). The functions are in :mod:`celm.server.users`."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from celm.server import users
from celm.server.routes.common import ANY, RoleRouter, int_field, page
from celm.server.security import SESSION_COOKIE

roles = RoleRouter()


@roles.route("GET", "/account", ANY)
def account_page(request, auth):
    return page(request, auth, "account.html")


@roles.route("POST", "/account/password", ANY)
def account_password(request, auth):
    f = auth.form
    users.set_password(auth.db, auth.user.id, str(f.get("new_password", "")), by=auth.user, address=auth.address,
                       current=str(f.get("current_password", "")))
    # every session ended with the change, this one too: log in again with the new password
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@roles.route("POST", "/admin/users/{user_id}/disable", ("admin",))
def user_disable(request, auth, user_id):
    users.set_active(auth.db, int_field(user_id, "user_id"), False, by=auth.user, address=auth.address)
    return RedirectResponse("/admin/users", status_code=303)


@roles.route("POST", "/admin/users/{user_id}/enable", ("admin",))
def user_enable(request, auth, user_id):
    users.set_active(auth.db, int_field(user_id, "user_id"), True, by=auth.user, address=auth.address)
    return RedirectResponse("/admin/users", status_code=303)


@roles.route("POST", "/admin/users/{user_id}/password", ("admin",))
def user_reset_password(request, auth, user_id):
    users.set_password(auth.db, int_field(user_id, "user_id"), str(auth.form.get("password", "")), by=auth.user,
                       address=auth.address)
    return RedirectResponse("/admin/users", status_code=303)
