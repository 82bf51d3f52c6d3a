"""The monthly scores page (月度考核) per role, publishing and correcting through it (with the
confirmation step and the audit records), the Excel export, the `publish_month` command, the
shipped default rules (migration 0005) and the scores API scoped like the page."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.evaluation.test_scoring import department_rule, november
from urbangrid.core.models import AuditLog
from urbangrid.evaluation import publish
from urbangrid.evaluation.indicators import TARGETS, registry
from urbangrid.evaluation.models import SCORED_TYPES, PublishedMonth, ScoringRule, ScoringTerm

URL = "/evaluation/scores/"
Q = "period=2026-11&type=department"
shipped = importlib.import_module("urbangrid.evaluation.migrations.0005_default_scoring_rules")


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def after_november(monkeypatch):
    """Today is 5 December 2026: November is over (publishable), December is not."""
    monkeypatch.setattr(publish.timezone, "localdate", lambda: dt.date(2026, 12, 5))


@pytest.fixture
def month(world, after_november):
    november(world)
    department_rule()
    return world


def _rows(html: str) -> dict[str, dict[str, str]]:
    out = {}
    for m in re.finditer(r'data-testid="scores-row-([^"]+)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'data-testid="(rank|score|level|money)">([^<]*)<', m[2]))
        out[m[1]] = cells
    return out


# --- the page per role -----------------------------------------------------------------------------


def test_leader_sees_scores_rule_breakdown_and_top_lists(month):
    r = _client(month.leader).get(f"{URL}?{Q}")
    assert r.status_code == 200
    html = r.content.decode()
    rows = _rows(html)
    assert rows["HW"] == {"rank": "4", "score": "64.67", "level": "合格", "money": "-1166.5"}
    assert rows["SZ"]["rank"] == "1" and rows["SZ"]["money"] == "500.0"
    assert 'data-testid="scores-not-published"' in html and 'data-testid="scores-publish"' in html
    assert "部门考核" in html and 'data-testid="scores-top"' in html
    # term breakdown: indicator values link to the department's cases of the month
    dept = month.sanitation.pk
    assert f"/cases/?department={dept}&amp;created_from=2026-11-01&amp;created_to=2026-11-30&amp;state=closed" in html
    # the leader is no admin: no link to the rule in the admin
    assert 'data-testid="scores-rule-admin"' not in html
    # the strict CSP: no inline script or style
    assert "<style" not in html and "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_admin_gets_the_rule_link(month):
    from tests.factories import user

    root = user("administrator", username="root", is_superuser=True, is_staff=True)
    html = _client(root).get(f"{URL}?{Q}").content.decode()
    rule = ScoringRule.objects.get(object_type="department")
    assert f'href="/admin/evaluation/scoringrule/{rule.pk}/change/"' in html


def test_dispatcher_sees_all_but_cannot_publish(month):
    c = _client(month.dispatcher)
    html = c.get(f"{URL}?{Q}").content.decode()
    assert len(_rows(html)) >= 4 and 'data-testid="scores-publish"' not in html
    assert c.get(f"{URL}publish/?{Q}").status_code == 403
    assert c.post(f"{URL}publish/", {"period": "2026-11", "type": "department"}).status_code == 403
    assert not PublishedMonth.objects.exists()


def test_department_handler_sees_only_their_own_row(month):
    c = _client(month.other_handler)  # 市政部门
    r = c.get(URL + "?period=2026-11")  # the type defaults to departments
    assert r.status_code == 200
    html = r.content.decode()
    assert set(_rows(html)) == {"SZ"} and _rows(html)["SZ"]["rank"] == "1"
    assert 'data-testid="scores-top"' not in html and 'data-testid="scores-publish"' not in html
    assert c.get(URL + "?period=2026-11&type=street").status_code == 403
    assert c.get(f"{URL}publish/?{Q}").status_code == 403
    wb = _workbook(c.get(f"/evaluation/scores.xlsx?{Q}"))
    assert [row[1] for row in wb.iter_rows(min_row=6, values_only=True)] == ["SZ"]
    # a handler of the parent department sees its sub-unit too
    assert set(_rows(_client(month.handler).get(f"{URL}?{Q}").content.decode())) == {"HW", "HW1"}


def test_collector_and_anonymous_are_refused(month):
    assert _client(month.collector).get(f"{URL}?{Q}").status_code == 403
    assert _client(month.collector).get(f"/evaluation/scores.xlsx?{Q}").status_code == 403
    r = Client().get(f"{URL}?{Q}")
    assert r.status_code == 302 and "/login/" in r["Location"]


@pytest.mark.parametrize(
    "query, message",
    [
        ("period=2026-13&type=department", "2026-13"),
        ("period=nonsense&type=department", "nonsense"),
        ("period=2026-Q4&type=department", "per month"),
        ("period=2026-11&type=planet", "planet"),
        ("period=2027-03&type=department", "future"),
        ("period=2026-11&type=department&version=x", "whole number"),
    ],
)
def test_bad_input_gives_a_message_not_a_500(month, query, message):
    c = _client(month.leader)
    r = c.get(f"{URL}?{query}")
    assert r.status_code == 400
    assert message in r.content.decode()
    assert c.get(f"/evaluation/scores.xlsx?{query}").status_code == 400
    assert c.get(f"{URL}publish/?{query}").status_code == 400


def test_no_rule_in_force_and_unknown_version(month):
    c = _client(month.leader)
    r = c.get(URL + "?period=2026-11&type=street")
    assert r.status_code == 200 and 'data-testid="scores-notice"' in r.content.decode()
    assert c.get(f"{URL}?{Q}&version=3").status_code == 404


# --- publishing and correcting through the page ---------------------------------------------------


def test_publish_through_the_confirmation_then_correct_with_a_reason(month):
    c = _client(month.leader)
    confirm = c.get(f"{URL}publish/?{Q}")
    assert confirm.status_code == 200 and 'data-testid="publish-confirm"' in confirm.content.decode()
    assert 'name="reason"' not in confirm.content.decode()  # a first publication needs no reason
    assert not PublishedMonth.objects.exists()  # the confirmation page changes nothing
    r = c.post(f"{URL}publish/", {"period": "2026-11", "type": "department"})
    assert r.status_code == 302 and r["Location"] == f"{URL}?{Q}"
    pm = PublishedMonth.objects.get()
    assert (pm.version, pm.published_by) == (1, month.leader)
    log = AuditLog.objects.get(action="evaluation.publish")
    assert log.actor == month.leader and log.object_id == str(pm.pk) and log.data["via"] == "page"
    html = c.get(f"{URL}?{Q}").content.decode()
    assert 'data-testid="scores-published"' in html and 'data-testid="scores-correct"' in html
    assert 'data-testid="scores-publish"' not in html

    # publishing again is a correction: the reason is required
    confirm = c.get(f"{URL}publish/?{Q}").content.decode()
    assert 'name="reason"' in confirm
    r = c.post(f"{URL}publish/", {"period": "2026-11", "type": "department", "reason": "  "})
    assert r.status_code == 400 and 'data-testid="publish-error"' in r.content.decode()
    assert PublishedMonth.objects.count() == 1
    r = c.post(f"{URL}publish/", {"period": "2026-11", "type": "department", "reason": "复核后更正"})
    assert r.status_code == 302
    v2 = publish.current("2026-11", "department")
    assert (v2.version, v2.reason) == (2, "复核后更正")
    log = AuditLog.objects.get(action="evaluation.correct")
    assert log.data["reason"] == "复核后更正" and log.data["previous"] == pm.pk and log.data["via"] == "page"
    html = c.get(f"{URL}?{Q}").content.decode()
    assert "复核后更正" in html and 'data-testid="scores-version-1"' in html
    # an earlier version stays viewable
    old = c.get(f"{URL}?{Q}&version=1").content.decode()
    assert 'data-testid="scores-old-version"' in old and _rows(old)["HW"]["score"] == "64.67"


def test_a_month_that_is_not_over_cannot_be_published(world, monkeypatch):
    november(world)
    department_rule()
    monkeypatch.setattr(publish.timezone, "localdate", lambda: dt.date(2026, 11, 28))
    c = _client(world.leader)
    html = c.get(f"{URL}?{Q}").content.decode()
    assert r'data-testid="scores-publish"' not in html and 'data-testid="scores-not-published"' in html
    assert 'data-testid="publish-confirm"' not in c.get(f"{URL}publish/?{Q}").content.decode()
    r = c.post(f"{URL}publish/", {"period": "2026-11", "type": "department"})
    assert r.status_code == 400 and "not over" in r.content.decode()
    body = {"period": "2026-11", "object_type": "department"}
    assert c.post("/api/v1/evaluation/scores/publish", body, "application/json").status_code == 400
    assert not PublishedMonth.objects.exists() and not AuditLog.objects.filter(action="evaluation.publish").exists()


def _workbook(response):
    from openpyxl import load_workbook

    assert response.status_code == 200, response.content
    return load_workbook(io.BytesIO(response.content)).active


def test_excel_export_of_the_scores_table(month):
    r = _client(month.leader).get(f"/evaluation/scores.xlsx?{Q}")
    assert 'filename="scores-2026-11-department.xlsx"' in r["Content-Disposition"]
    ws = _workbook(r)
    assert "2026-11" in ws["A1"].value and "部门考核" in ws["A2"].value
    rows = {row[1]: row for row in ws.iter_rows(min_row=6, values_only=True)}
    assert rows["HW"][:6] == (4, "HW", "环卫部门", 64.67, "合格", -1166.5)
    assert ws.cell(row=5, column=7).value.endswith("value")


# --- the command ----------------------------------------------------------------------------------


def test_publish_month_command(month):
    out = io.StringIO()
    call_command("publish_month", "2026-11", "--type", "department", "--user", "boss", stdout=out)
    assert "published, version 1" in out.getvalue()
    pm = publish.current("2026-11", "department")
    assert pm.published_by == month.leader
    assert AuditLog.objects.get(action="evaluation.publish").data["via"] == "command"
    out = io.StringIO()
    call_command("publish_month", "2026-11", "--all", stdout=out)  # a rerun changes nothing
    assert "already published" in out.getvalue() and PublishedMonth.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("publish_month", "2026-11", "--type", "department", "--correct")  # no reason
    call_command("publish_month", "2026-11", "--type", "department", "--correct", "--reason", "更正", stdout=out)
    assert publish.current("2026-11", "department").version == 2
    assert AuditLog.objects.get(action="evaluation.correct").data["reason"] == "更正"
    with pytest.raises(CommandError):
        call_command("publish_month", "2026-12", "--type", "department", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("publish_month", "2026-11")  # neither --type nor --all
    with pytest.raises(CommandError):
        call_command("publish_month", "2026-1x", "--all")


# --- the shipped default rules ----------------------------------------------------------------------


@pytest.fixture
def shipped_rules(db):
    return shipped.install(ScoringRule, ScoringTerm)


def test_every_scored_type_has_a_shipped_rule_over_registered_indicators(shipped_rules):
    assert {r.object_type for r in shipped_rules} == {code for code, _label in SCORED_TYPES}
    for rule in shipped_rules:
        assert rule.valid_from == dt.date(2000, 1, 1) and rule.version == 1 and rule.active
        assert rule.levels == [[90, "优秀"], [80, "良好"], [60, "合格"], [0, "不合格"]]
        codes = {i.code for i in registry(TARGETS[rule.object_type])}
        for term in rule.terms.all():
            assert term.indicator in codes, (rule.object_type, term.indicator)
            term.full_clean()  # the admin's validation
    street = ScoringRule.objects.get(object_type="street")
    money = street.terms.get(kind="money")
    assert (money.above, money.below) == (50, 50)
    assert ScoringRule.objects.get(object_type="department").terms.filter(kind="deduction", per_unit="0.2").exists()
    # a type that has a rule (the bureau's own) gets no default; the install is idempotent
    assert shipped.install(ScoringRule, ScoringTerm) == []


def test_shipped_rules_score_demo_like_data(world, after_november):
    november(world)
    ScoringRule.objects.create(object_type="department", name="本局办法", valid_from=dt.date(2026, 1, 1))
    created = shipped.install(ScoringRule, ScoringTerm)
    assert "department" not in {r.object_type for r in created}  # the bureau's rule stays alone
    ScoringRule.objects.filter(object_type="department").delete()
    shipped.install(ScoringRule, ScoringTerm)
    for code, _label in SCORED_TYPES:
        s = publish.scores("2026-11", code)
        assert s["results"], code
        for row in s["results"]:
            assert 0 <= row["score"] <= 100 and row["level"] in ("优秀", "良好", "合格", "不合格"), (code, row)
    streets = publish.scores("2026-11", "street")["results"]
    (street,) = streets
    # 1 public report of 5 registered: (100 − 20) × 0.1; grids' band; closure 3 of 4 → money (75 − 90) × 50
    assert street["money"] == -750.0
    dept = {r["object"]["code"]: r for r in publish.scores("2026-11", "department")["results"]}
    assert dept["SZ"]["score"] == 100.0 and dept["HW"]["level"]


def test_shipped_rules_in_the_migrated_database(django_db_blocker, django_db_setup):
    """The test database was built by the migrations: migration 0005 ran (the evaluation tests
    then remove its rows for their own rules, see conftest.py)."""
    from django.db.migrations.recorder import MigrationRecorder

    with django_db_blocker.unblock():
        assert MigrationRecorder.Migration.objects.filter(app="evaluation", name=shipped.__name__.rsplit(".", 1)[1])


# --- the API, scoped like the page -------------------------------------------------------------------


def test_api_gives_the_page_figures_scoped_the_same_way(month):
    api = _client(month.leader).get("/api/v1/evaluation/scores?period=2026-11&object_type=department")
    assert api.status_code == 200
    html = _client(month.leader).get(f"{URL}?{Q}").content.decode()
    rows = _rows(html)
    for row in api.json()["results"]:
        shown = rows[row["object"]["code"]]
        assert (shown["rank"], shown["score"], shown["money"]) == (
            str(row["rank"]),
            str(row["score"]),
            str(row["money"]),
        )
    handler = _client(month.other_handler)
    r = handler.get("/api/v1/evaluation/scores?period=2026-11&object_type=department")
    assert [x["object"]["code"] for x in r.json()["results"]] == ["SZ"]
    assert handler.get("/api/v1/evaluation/scores/versions?period=2026-11&object_type=department").status_code == 200
    r = handler.get("/api/v1/evaluation/scores?period=2026-11&object_type=street")
    assert r.status_code == 403 and set(r.json()["error"]) == {"code", "message", "fields"}
    collector = _client(month.collector)
    assert collector.get("/api/v1/evaluation/scores?period=2026-11&object_type=department").status_code == 403
    r = _client(month.leader).get("/api/v1/evaluation/scores?period=2027-05&object_type=department")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"


def test_navigation_link_for_the_roles_that_may_see_the_page(month):
    for who in (month.leader, month.dispatcher, month.handler):
        assert 'data-testid="nav-scores"' in _client(who).get("/todo/").content.decode(), who
    assert 'data-testid="nav-scores"' not in _client(month.collector).get("/todo/").content.decode()
