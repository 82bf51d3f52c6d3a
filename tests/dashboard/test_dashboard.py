"""The dashboard's numbers from known small data, each equal to the number of rows the case
list shows at its link; previous-period and last-year comparisons; drill-down; access."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import act as op
from tests.factories import report_at as report
from urbangrid.cases import actions
from urbangrid.dashboard import data
from urbangrid.dashboard.access import Viewer
from urbangrid.evaluation.periods import parse_period, parse_scope
from urbangrid.geo.models import AdminDivision, UnitGrid

from .conftest import at

NOW = at(28, 12)


def to_handling(world, case, when, dept=None):
    op(case, "accept", world.operator, when)
    op(case, "register", world.shift, when + dt.timedelta(minutes=10))
    op(case, "dispatch", world.dispatcher, when + dt.timedelta(minutes=20), department=(dept or world.sanitation).pk)


def finish(world, case, when):
    op(case, "feedback", world.handler, when, result="已清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator, when + dt.timedelta(minutes=10))
    op(case, "check_pass", world.collector, when + dt.timedelta(minutes=20), photos=[world.photo(world.collector)])
    op(case, "close", world.shift, when + dt.timedelta(minutes=30))


@pytest.fixture
def month(world):
    """November 2026: 6 cases in the world's street, 1 in a second street; October: 2; Nov 2025: 1."""
    w = world
    street2 = AdminDivision.objects.create(code="330483002", name="凤鸣街道", level="street", parent=w.street.parent)
    comm2 = AdminDivision.objects.create(code="330483002001", name="凤鸣社区", level="community", parent=street2)
    g = w.grids[0]
    far = UnitGrid.objects.create(
        code="33048300200101",
        community=comm2,
        work_grid=None,
        geometry=g.geometry,
        area_m2=1,
        min_lon=g.min_lon + 0.01,
        min_lat=g.min_lat,
        max_lon=g.max_lon + 0.01,
        max_lat=g.max_lat,
    )
    from urbangrid.geo.index import invalidate_index

    far.geometry = {
        "type": "Polygon",
        "coordinates": [
            [
                [g.min_lon + 0.01, g.min_lat],
                [g.max_lon + 0.01, g.min_lat],
                [g.max_lon + 0.01, g.max_lat],
                [g.min_lon + 0.01, g.max_lat],
                [g.min_lon + 0.01, g.min_lat],
            ]
        ],
    }
    far.save()
    invalidate_index()
    cases = {}
    # closed through the whole loop, on time
    c = report(w, at(2))
    to_handling(w, c, at(2, 11))
    finish(w, c, at(2, 14))
    cases["closed"] = c
    # dispatched to municipal, still handling and overdue by NOW
    c = report(w, at(3), i=1, category=w.cover)
    to_handling(w, c, at(3, 11), dept=w.municipal)
    cases["overdue"] = c
    # fixed on the spot by the collector
    c = report(w, at(4), category=w.flyer, i=2)
    op(c, "self_fix", w.collector2, at(4, 11), photos=[w.photo(w.collector2)])
    op(c, "confirm_self_fix", w.operator, at(4, 12))
    cases["fixed"] = c
    # hotline, only reported
    cases["hotline"] = report(w, at(5), by=w.operator, source="hotline", i=3)
    # registered, not dispatched
    c = report(w, at(6))
    op(c, "accept", w.operator, at(6, 11))
    op(c, "register", w.shift, at(6, 12))
    cases["registered"] = c
    # another collector report, dispatched to sanitation
    c = report(w, at(9))
    to_handling(w, c, at(9, 11))
    cases["handling"] = c
    # the other street
    lon, lat = far.min_lon + 0.0004, far.min_lat + 0.0004
    cases["street2"] = actions.create_case(
        w.operator,
        source="hotline",
        category=w.garbage,
        description="垃圾",
        lon=lon,
        lat=lat,
        photos=[w.photo(w.operator)],
        now=at(10),
        reporter={"phone": "13800000000"},
    )
    # October: two, one closed
    c = report(w, at(12, month=10))
    to_handling(w, c, at(12, 11, month=10))
    finish(w, c, at(12, 14, month=10))
    report(w, at(13, month=10))
    # November 2025
    report(w, at(12, year=2025))
    w.street2, w.comm2 = street2, comm2
    return cases


def list_count(client, url: str) -> int:
    r = client.get(url)
    assert r.status_code == 200, r.content[:500]
    rows = r.context["rows"]
    assert not r.context["next_url"]
    return len(rows)


def summary(scope="city", period="2026-11", viewer=None):
    return data.summary(viewer or Viewer(None), parse_period(period), parse_scope(scope), now=NOW)


def kpi(s, code):
    return next(k for k in s["kpis"] if k["code"] == code)


def test_kpis_with_known_answers(world, month):
    s = summary()
    v = {k["code"]: k["value"] for k in s["kpis"]}
    assert v["collected"] == 7
    assert v["self_fixed"] == 1
    assert v["dispatched"] == 3  # closed, overdue (handling), handling
    assert v["closed"] == 2  # the closed one and the one fixed on the spot
    assert v["closure_rate"] == pytest.approx(33.3)
    assert v["on_time_rate"] == 100.0
    c = kpi(s, "collected")
    assert (c["previous"], c["delta_previous"], c["last_year"], c["delta_last_year"]) == (2, 5, 1, 6)
    assert kpi(s, "closed")["previous"] == 1
    assert sum(b["collected"] for b in s["trend"]["buckets"]) == 7
    assert len(s["trend"]["buckets"]) == 30 and s["trend"]["granularity"] == "day"
    nov2 = s["trend"]["buckets"][1]
    assert (nov2["first"], nov2["collected"], nov2["closed"]) == ("2026-11-02", 1, 1)
    assert {r["key"]: r["count"] for r in s["sources"]} == {"collector": 5, "hotline": 2}
    assert s["categories"][0] == {**s["categories"][0], "key": "event:0102", "count": 5}
    streets = {r["code"]: r for r in s["children"]["rows"]}
    assert s["children"]["kind"] == "street"
    assert (streets["330483001"]["collected"], streets["330483002"]["collected"]) == (6, 1)
    depts = {d["id"]: d for d in s["departments"]}
    assert depts[world.sanitation.pk]["count"] == 2 and depts[world.municipal.pk]["count"] == 1
    assert s["collectors"][0]["count"] == 5 and s["collectors"][0]["id"] == world.collector.pk


def test_every_number_equals_the_rows_of_its_case_list(world, month, client, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    client.force_login(world.leader)
    s = summary()
    checked = 0
    for k in s["kpis"]:
        assert list_count(client, k["url"]) == k["value"] if k["unit"] == "" else True, k["code"]
        if k.get("previous_url") and k["unit"] == "":
            assert list_count(client, k["previous_url"]) == k["previous"], k["code"]
            assert list_count(client, k["last_year_url"]) == k["last_year"], k["code"]
        checked += 1
    assert kpi(s, "overdue")["value"] == 7  # every open case is past its stage deadline by the 28th
    for r in s["sources"] + s["categories"]:
        assert list_count(client, r["url"]) == r["count"], r
    for r in s["children"]["rows"]:
        assert list_count(client, r["url"]) == r["collected"], r
        assert list_count(client, r["closed_url"]) == r["closed"], r
    for d in s["departments"]:
        assert list_count(client, d["url"]) == d["count"], d
    for c in s["collectors"]:
        assert list_count(client, c["url"]) == c["count"], c
        assert list_count(client, c["self_fixed_url"]) == c["self_fixed"], c
    for b in s["trend"]["buckets"][:10]:
        assert list_count(client, b["url"]) == b["collected"], b
        assert list_count(client, b["closed_url"]) == b["closed"], b
    assert list_count(client, s["overdue"]["url"]) == s["overdue"]["count"] == len(s["overdue"]["items"])
    assert checked == 7


def test_drill_down_street_community_grids(world, month, client, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    client.force_login(world.leader)
    s = summary("street:330483001")
    assert [c["kind"] for c in s["breadcrumbs"]] == ["city", "street"]
    assert kpi(s, "collected")["value"] == 6
    assert s["children"]["kind"] == "community"
    (comm,) = s["children"]["rows"]
    assert comm["code"] == "330483001001" and comm["collected"] == 6
    assert list_count(client, comm["url"]) == 6
    s = summary("community:330483001001")
    assert s["children"]["kind"] == "work_grid"
    assert {r["code"]: r["collected"] for r in s["children"]["rows"]} == {"WG1": 4, "WG2": 2}
    s = summary("work_grid:WG1")
    assert [c["kind"] for c in s["breadcrumbs"]] == ["city", "street", "community", "work_grid"]
    grids = {r["code"]: r for r in s["children"]["rows"]}
    assert sum(r["collected"] for r in grids.values()) == 4
    for r in grids.values():
        assert list_count(client, r["url"]) == r["collected"]
    s = summary("unit_grid:33048300100101")
    assert s["children"]["kind"] is None
    assert list_count(client, kpi(s, "collected")["url"]) == kpi(s, "collected")["value"] == 3
    # the page: breadcrumbs and drill links
    r = client.get("/dashboard/?period=2026-11&scope=street:330483001")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="drill-330483001001"' in html and 'data-testid="crumb-city"' in html


def test_periods_before_and_last_year():
    p = parse_period
    assert data.previous_period(p("2026-01")).label == "2025-12"
    assert data.previous_period(p("2026-Q1")).label == "2025-Q4"
    assert data.previous_period(p("2026-W01")).first == p("2025-W52").first
    assert data.previous_period(p("2026")).label == "2025"
    c = data.previous_period(p("2026-11-01..2026-11-10"))
    assert (c.first, c.last) == (dt.date(2026, 10, 22), dt.date(2026, 10, 31))
    y = data.same_period_last_year(p("2028-02-01..2028-02-29"))
    assert (y.first, y.last) == (dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    assert data.same_period_last_year(p("2026-Q2")).label == "2025-Q2"
    q = data.summary  # weekly buckets for a year
    assert q


def test_year_is_weekly(world, month):
    s = summary(period="2026")
    assert s["trend"]["granularity"] == "week"
    assert sum(b["collected"] for b in s["trend"]["buckets"]) == 9


@pytest.mark.parametrize("max_age", [0, 600])
def test_department_staff_see_their_own(world, month, client, monkeypatch, settings, max_age):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    settings.URBANGRID_EVALUATION_MAX_AGE = max_age
    if max_age:  # the stored evaluation of the city holds every department: a leader asked first
        client.force_login(world.leader)
        every = client.get("/dashboard/api/summary.json?period=2026-11").json()
        assert {d["id"] for d in every["departments"]} > {world.municipal.pk}
    client.force_login(world.other_handler)  # 市政部门
    r = client.get("/dashboard/api/summary.json?period=2026-11")
    assert r.status_code == 200
    s = r.json()
    assert kpi(s, "collected")["value"] == 1
    assert {d["id"] for d in s["departments"]} == {world.municipal.pk}
    assert s["departments"][0]["composite"] is not None  # its own evaluation, live or stored
    assert (s["evaluated_at"] is not None) == bool(max_age)
    assert list_count(client, kpi(s, "collected")["url"]) == 1
    assert kpi(s, "overdue")["value"] == 1
    assert client.get("/dashboard/?period=2026-11").status_code == 200


def test_access(world, client):
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/api/summary.json").status_code == 401
    assert client.get("/dashboard/api/feed.json").status_code == 401
    from tests.factories import user

    nobody = user("collector")  # no department, no center
    client.force_login(nobody)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/api/screen.json").status_code == 403
    for who in (world.leader, world.dispatcher, world.operator):
        client.force_login(who)
        assert client.get("/dashboard/").status_code == 200
        assert client.get("/dashboard/screen/").status_code == 200
    client.force_login(world.leader)
    assert client.get("/dashboard/api/summary.json?period=2026-13").status_code == 400
    assert client.get("/dashboard/api/summary.json?scope=street:nope").status_code == 400
    assert client.get("/dashboard/?period=bad").status_code == 400


def test_screen_endpoints(world, month, client):
    from django.utils import timezone

    client.force_login(world.leader)
    today = report(world, timezone.now())
    s = client.get("/dashboard/api/screen.json").json()
    counts = {c["code"]: c["value"] for c in s["today"]["counts"]}
    assert counts["collected"] == 1
    assert list_count(client, s["today"]["counts"][0]["url"]) == 1
    assert s["overdue"]["count"] >= 1
    assert len(s["category_trend"]["days"]) == 14
    f = client.get("/dashboard/api/feed.json").json()
    assert f["last_id"] == today.pk and f["items"][0]["number"] == today.number
    assert client.get(f"/dashboard/api/feed.json?after={today.pk}").json()["items"] == []
    newer = report(world, timezone.now(), i=1)
    f = client.get(f"/dashboard/api/feed.json?after={today.pk}").json()
    assert [i["id"] for i in f["items"]] == [newer.pk]
    d = client.get("/dashboard/api/density.json").json()
    assert d["counts"] == {"33048300100101": 1, "33048300100102": 1} and d["max"] == 1
    c = client.get("/dashboard/api/collectors.json").json()
    assert c["source"] == "last_report"
    assert [x["name"] for x in c["collectors"]] == ["col1"]
