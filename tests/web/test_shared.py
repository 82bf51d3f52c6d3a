"""What the staff web and the phone app share: module layering, the one case filter (web list,
export and the API's function), the case page in words."""

from __future__ import annotations

import ast
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.cases.test_loop import op, report, to_handling
from urbangrid.cases.filters import CaseFilter, filter_cases
from urbangrid.cases.models import Case
from urbangrid.web import lists
from urbangrid.workflow.errors import Invalid

SRC = Path(__file__).resolve().parents[2] / "src" / "urbangrid"
LOW = ("core", "geo", "catalog", "workflow", "cases", "evaluation")
VIEW_MODULES = ("urbangrid.web.views", "urbangrid.web.desk", "urbangrid.web.maps", "urbangrid.web.urls")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (at any depth, relative imports resolved)."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


def _py(*parts: str) -> list[Path]:
    return sorted(p for p in SRC.joinpath(*parts).rglob("*.py") if "migrations" not in p.parts)


def test_mobile_imports_no_web_views():
    files = _py("mobile")
    assert files
    for path in files:
        web = {m for m in imports_of(path) if m.startswith("urbangrid.web")}
        bad = {m for m in web if not m.startswith(("urbangrid.web.shared", "urbangrid.web.access"))}
        assert not bad, f"{path.name} imports {sorted(bad)}"
    assert "urbangrid.web.shared.casepage" in imports_of(SRC / "mobile" / "views.py")


def test_shared_code_imports_no_view_module():
    for path in _py("web", "shared"):
        bad = {m for m in imports_of(path) if m.startswith(VIEW_MODULES) or m.startswith("urbangrid.mobile")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_low_layers_import_no_web_mobile_or_api():
    for layer in LOW:
        for path in _py(layer):
            bad = {m for m in imports_of(path) if m.startswith(("urbangrid.web", "urbangrid.mobile", "urbangrid.api"))}
            assert not bad, f"{layer}/{path.name} imports {sorted(bad)}"
    filters = imports_of(SRC / "cases" / "filters.py")
    assert not {m for m in filters if m.startswith(("urbangrid.api", "urbangrid.web", "urbangrid.mobile"))}


# --- the one case filter ------------------------------------------------------------------------


def _web_numbers(client, path: str, params: dict) -> list[str]:
    body = client.get(path, params).content.decode()
    return re.findall(r'data-testid="case-row" data-number="([^"]+)"', body)


def _export_numbers(client, kind: str, params: dict) -> list[str]:
    response = client.get(f"/export/{kind}.xlsx", params)
    assert response.status_code == 200, response.content[:500]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    return [r[0] for r in rows[1:]]


@pytest.fixture
def spread(world):
    """Cases of two categories, grids and states, reported on three days."""
    now = timezone.now()
    cases = [
        report(world, i=0),
        report(world, i=1, category=world.flyer),
        report(world, i=2),
        report(world, i=3, category=world.cover, by=world.operator, source="hotline"),
        report(world, i=0),
    ]
    op(cases[2], "accept", world.operator)
    to_handling(world, cases[4])
    days = [0, 0, 1, 2, 1]
    for case, back in zip(cases, days, strict=True):
        Case.objects.filter(pk=case.pk).update(created_at=now - timedelta(days=back))
    return cases


PARAMS = [
    {"category": "event:0102"},
    {"category": "0102"},  # the same code for a component: ambiguous, see below
    {"state": "reported"},
    {"state": "reported,accepted", "grid": "33048300100101"},
    {"state": ["reported", "handling"]},
    {"work_grid": "WG2"},
    {"source": "hotline", "overdue": "false"},
    {"light": "green"},
    {"created_to": "__yesterday__"},
    {"created_from": "__yesterday__", "category": "event:01"},
]


@pytest.mark.parametrize("params", PARAMS)
def test_one_filter_gives_the_same_rows_to_the_web_list_the_export_and_the_api(world, as_user, spread, params):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    params = {k: (yesterday if v == "__yesterday__" else v) for k, v in params.items()}
    user = world.operator
    try:
        expected = sorted(c.number for c in filter_cases(user, params))
    except Invalid as exc:
        assert params == {"category": "0102"} and "category" in exc.fields
        response = as_user(user).get("/cases/", params)
        assert response.status_code == 400 and b'data-testid="error-category"' in response.content
        assert b"event:0102" in response.content and b'data-testid="case-row"' not in response.content
        assert as_user(user).get("/export/search.xlsx", params).status_code == 400
        return
    c = as_user(user)
    web_params = {k: ",".join(v) if isinstance(v, list) else v for k, v in params.items()}
    assert sorted(_web_numbers(c, "/cases/", web_params)) == expected
    assert sorted(_export_numbers(c, "search", web_params)) == expected
    assert 0 < len(expected) < len(spread) or params.get("light")


def test_created_to_a_date_includes_that_day_a_time_excludes_it(world, spread):
    user = world.operator
    day = timezone.localdate() - timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), timezone.get_current_timezone())
    Case.objects.filter(pk=spread[2].pk).update(created_at=start + timedelta(hours=23, minutes=59))
    Case.objects.filter(pk=spread[4].pk).update(created_at=start)
    by_date = {c.pk for c in filter_cases(user, {"created_to": day.isoformat()})}
    assert {spread[2].pk, spread[4].pk, spread[3].pk} <= by_date and spread[0].pk not in by_date
    by_time = {c.pk for c in filter_cases(user, {"created_to": start.isoformat()})}
    assert spread[4].pk not in by_time and spread[3].pk in by_time
    naive = {c.pk for c in filter_cases(user, {"created_to": start.strftime("%Y-%m-%dT%H:%M")})}
    assert naive == by_time
    assert {c.pk for c in filter_cases(user, {"created_from": day.isoformat(), "created_to": day.isoformat()})} == {
        spread[2].pk,
        spread[4].pk,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"department": "²"}, "department"),
        ({"department": "9" * 30}, "department"),
        ({"department": 10**30}, "department"),
        ({"department": "-1"}, "department"),
        ({"department": "999999"}, "department"),
        ({"category": "event:9999"}, "category"),
        ({"category": "plant:0102"}, "category"),
        ({"category": "²"}, "category"),
        ({"category": "9" * 500}, "category"),
        ({"grid": "nowhere"}, "grid"),
        ({"work_grid": "WG9"}, "work_grid"),
        ({"state": "reported,lost"}, "state"),
        ({"source": "pigeon"}, "source"),
        ({"light": "blue"}, "light"),
        ({"overdue": "maybe"}, "overdue"),
        ({"created_from": "2026-13-45"}, "created_from"),
        ({"created_to": "9999-12-31"}, "created_to"),
        ({"created_to": "yesterday"}, "created_to"),
        ({"mine": "²"}, "mine"),
    ],
)
def test_bad_filter_values_are_clear_errors_never_a_500(world, as_user, params, field):
    with pytest.raises(Invalid) as caught:
        CaseFilter.parse(params)
    assert caught.value.status == 400 and set(caught.value.fields) == {field}
    if isinstance(next(iter(params.values())), str):
        c = as_user(world.operator)
        page = c.get("/cases/", params)
        assert page.status_code == 400
        if field in lists.CaseFilterForm.base_fields:
            assert f'data-testid="error-{field}"'.encode() in page.content
        else:
            assert b'data-testid="filter-errors"' in page.content
        assert c.get("/export/search.xlsx", params).status_code == 400
        assert c.get("/todo/", params).status_code == 400


def test_filter_by_id_code_and_major_class_and_mine(world, spread):
    user = world.operator
    garbage = {c.pk for c in filter_cases(user, {"category": world.garbage.pk})}
    assert garbage == {c.pk for c in filter_cases(user, {"category": str(world.garbage.pk)})}
    assert garbage == {c.pk for c in filter_cases(user, {"category": "event:0102"})}
    assert {c.pk for c in filter_cases(user, {"category": "0201"})} == {spread[1].pk}
    assert {c.pk for c in filter_cases(user, {"category": "component:01"})} == {spread[3].pk}
    mine = {c.pk for c in filter_cases(user, {"mine": True})}
    assert spread[2].pk not in mine and spread[0].pk in mine
    assert {c.pk for c in filter_cases(world.handler, {"mine": "on"})} == {spread[4].pk}


# --- the case page in words ---------------------------------------------------------------------


def _timeline(body: str) -> str:
    return body[body.index('data-testid="timeline"') : body.index("</ol>", body.index('data-testid="timeline"'))]


def test_case_page_timeline_in_words_and_no_version_as_text(world, as_user):
    case = report(world, by=world.operator, source="hotline")
    op(case, "send_verify", world.operator)
    op(case, "verify", world.collector, exists=True, photos=[world.photo(world.collector)])
    op(case, "accept", world.operator)
    op(case, "register", world.shift, urgency="urgent")
    op(case, "dispatch", world.dispatcher, department=world.municipal.pk)
    op(case, "request_extension", world.other_handler, reason="等材料", amount="2", unit="working_days")
    c = as_user(world.leader)
    body = c.get(f"/cases/{case.pk}/").content.decode()
    timeline = _timeline(body)
    assert "Does the problem exist on site?" in timeline and "yes" in timeline and "True" not in timeline
    assert "Urgency" in timeline and "urgent" in timeline
    assert "市政部门" in timeline and f">{world.municipal.pk}<" not in timeline
    assert "working days" in timeline and "working_days" not in timeline
    assert "suggested" not in timeline and "department_name" not in timeline
    assert "approver" in timeline and "dispatcher" in timeline
    # the version travels only as the hidden field of each operation form
    assert 'data-testid="version"' not in body and ">Version<" not in body
    assert f'<input type="hidden" name="urge-version" value="{case.version}"' in body
    zh = c.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "</span> 是</li>" in _timeline(zh) and "</span> 紧急</li>" in _timeline(zh)
    assert "</span> 工作日</li>" in _timeline(zh)


def test_case_page_shows_the_new_states(world, as_user):
    flyer = report(world, category=world.flyer)
    op(flyer, "self_fix", world.collector, photos=[world.photo(world.collector)])
    body = as_user(world.operator).get(f"/cases/{flyer.pk}/").content.decode()
    assert 'data-state="self_handled"' in body and 'data-testid="op-confirm_self_fix"' in body
    rejected = report(world, i=1)
    op(rejected, "reject", world.operator, reason="不属于受理范围")
    body = as_user(world.operator).get(f"/cases/{rejected.pk}/").content.decode()
    assert 'data-state="not_accepted"' in body and 'data-testid="no-operations"' in body
    assert "不属于受理范围" in _timeline(body)
    phone = as_user(world.collector).get(f"/m/cases/{flyer.pk}/").content.decode()
    assert 'data-state="self_handled"' in phone and 'data-testid="no-operations"' in phone


def test_filter_reads_the_api_schema_values_as_they_come(world, spread):
    """The API passes its query schema's dict: typed values and None for what was not given."""
    yesterday = timezone.localdate() - timedelta(days=1)
    params = {
        "mine": False,
        "state": ["reported", "accepted"],
        "grid": None,
        "work_grid": None,
        "department": None,
        "category": "event:0102",
        "source": None,
        "overdue": None,
        "light": None,
        "created_from": None,
        "created_to": yesterday,
        "limit": 50,
        "cursor": None,
    }
    assert {c.pk for c in filter_cases(world.operator, params)} == {spread[2].pk}
    at = datetime.combine(yesterday, datetime.min.time(), timezone.get_current_timezone()) + timedelta(days=1)
    assert {c.pk for c in filter_cases(world.operator, params | {"created_to": at})} == {spread[2].pk}
