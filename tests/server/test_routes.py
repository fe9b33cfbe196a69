"""The route modules' wiring: the header's nav table against the routes' roles, the red-team model
cache, and the dashboard's queries (a constant number, whatever the number of rows)."""

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from celm.server import agreement, redteam
from celm.server.models import ROLES, Batch, Item, RatingRow, User, now
from celm.server.routes import NAV, check_nav
from celm.server.users import create_user
from tests.server.helpers import add_user, db, login, make_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("routes"))


def test_each_nav_link_is_shown_to_exactly_its_routes_roles(app):
    for path, key, roles in NAV:
        assert app.state.route_roles[f"GET {path}"] == roles, (path, key)
    check_nav(app.state.route_roles)
    with pytest.raises(RuntimeError):
        check_nav({**app.state.route_roles, "GET /dashboard": ("admin",)})


def test_the_header_shows_each_role_its_links(app):
    expected = {"annotator": ["/test", "/annotate"], "senior": ["/adjudicate", "/dashboard"],
                "reviewer": ["/review", "/dashboard"],
                "admin": ["/dashboard", "/admin/users", "/admin/import", "/admin/test", "/admin/audit", "/redteam/leaderboard"],
                "redteamer": ["/redteam", "/redteam/leaderboard"]}
    assert set(expected) == set(ROLES)
    for role, links in expected.items():
        add_user(app, f"nav-{role}", role, qualified=True)
        client, _ = login(app, f"nav-{role}")
        header = client.get("/").text.split("<header>")[1].split('<span class="sp">')[0]
        assert [p for p, _, _ in NAV if f'href="{p}"' in header] == links, role


def test_red_team_models_are_built_once_per_spec(tmp_path, monkeypatch):
    import celm.models

    built = []
    real = celm.models.get_model

    def counting(spec, *a, **kw):
        built.append(spec)
        return real(spec, *a, **kw)

    monkeypatch.setattr(celm.models, "get_model", counting)
    monkeypatch.setattr(redteam, "_redteam_models", {})
    app = make_app(tmp_path, redteam_models=("echo",))
    add_user(app, "red", "redteamer")
    red, csrf = login(app, "red")
    for k in range(3):
        r = red.post("/redteam", data={"csrf": csrf, "prompt": f"p{k}", "scenario": "drugs", "model": "echo"},
                     follow_redirects=False)
        assert r.status_code == 303
    assert built == ["echo"]
    assert redteam.redteam_model("echo") is redteam.redteam_model("echo")


def _fill(s, n_items: int) -> None:
    users = [create_user(s, f"u{k}-{n_items}", "correct-horse-9", role)
             for k, role in enumerate(("annotator", "annotator", "senior"))]
    batch = Batch(name=f"b{n_items}", task="rating")
    s.add(batch)
    s.flush()
    t0 = now()
    for k in range(n_items):
        item = Item(batch_id=batch.id, external_id=f"e{k}", instruction="i", response="r",
                    status=("done", "disagreement", "open")[k % 3], scenario=("drugs", None)[k % 2])
        s.add(item)
        s.flush()
        s.add_all([RatingRow(item_id=item.id, user_id=users[0].id, role="annotator", score=k % 7, created_at=t0 + timedelta(minutes=k)),
                   RatingRow(item_id=item.id, user_id=users[1].id, role="annotator", score=(k * 3) % 7, created_at=t0),
                   RatingRow(item_id=item.id, user_id=users[2].id, role="senior", score=(k % 7) if k % 2 else 5,
                          created_at=t0 + timedelta(hours=k))])
    s.commit()


def _old_per_row(s) -> dict:
    """What the dashboard computed with a query per row before (the reference)."""
    seniors = s.scalars(select(RatingRow).where(RatingRow.role == "senior")).all()
    matched = 0
    for sr in seniors:
        firsts = s.scalars(select(RatingRow).where(RatingRow.item_id == sr.item_id, RatingRow.round == sr.round,
                                                RatingRow.role == "annotator")).all()
        matched += any((f.score, f.label) == (sr.score, sr.label) for f in firsts)
    batches = []
    for b in s.scalars(select(Batch).order_by(Batch.id)):
        counts = defaultdict(int)
        for (status,) in s.execute(select(Item.status).where(Item.batch_id == b.id)):
            counts[status] += 1
        batches.append({"id": b.id, "name": b.name, "task": b.task, "items": sum(counts.values()), **dict(counts)})
    throughput = []
    for u in s.scalars(select(User).where(User.role.in_(("annotator", "senior"))).order_by(User.username)):
        rs = s.scalars(select(RatingRow).where(RatingRow.user_id == u.id)).all()
        if rs:
            first, last = min(r.created_at for r in rs), max(r.created_at for r in rs)
            hours = max((last - first).total_seconds() / 3600, 1 / 60)
            throughput.append({"user": u.username, "role": u.role, "ratings": len(rs), "per_hour": len(rs) / hours})
    return {"batches": batches, "throughput": throughput,
            "senior": {"adjudicated": len(seniors), "match_rate": matched / len(seniors) if seniors else None}}


def test_dashboard_runs_a_constant_number_of_queries_with_the_same_results(tmp_path):
    app = make_app(tmp_path)
    engine = app.state.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a, **kw: statements.append(a[2]))
    counts = []
    for n in (2, 9):
        with db(app) as s:
            _fill(s, n)
        with db(app) as s:
            statements.clear()
            d = agreement.dashboard(s)
            counts.append(len(statements))
            old = _old_per_row(s)
        assert {k: d[k] for k in old} == old
        assert [list(b) for b in d["batches"]] == [list(b) for b in old["batches"]]  # same keys, same order
    assert counts[0] == counts[1], counts
