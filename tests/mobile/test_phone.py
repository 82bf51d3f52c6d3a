"""The phone app for every field role: handlers' to-do and operations, the where-to-go page for
roles with nothing on the phone, the category picker's data, the fix side by side, reports
outside the collector's grids."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cases.test_loop import op, report, to_handling
from tests.factories import PNG_1PX
from tests.factories import user as make_user
from urbangrid.catalog.models import Category, CategorySynonym
from urbangrid.workflow import engine, kit

pytestmark = pytest.mark.django_db


def _testids(body: str, prefix: str) -> set[str]:
    return set(re.findall(rf'data-testid="{prefix}([\w-]+)"', body))


def handling_case(world, **kw):
    return to_handling(world, report(world, **kw))


# --- handlers on the phone ----------------------------------------------------------------


def test_handler_sees_the_department_todo(world, as_user):
    mine = handling_case(world)
    other = handling_case(world, category=world.cover, i=1)  # 污水井盖 → 市政部门
    report(world, i=2)  # not dispatched yet
    r = as_user(world.handler).get("/m/")
    assert r.status_code == 200
    body = r.content.decode()
    numbers = re.findall(r'data-testid="task" data-number="(\w+)"', body)
    assert numbers == [mine.number]
    assert other.number not in body
    assert 'data-testid="m-report"' not in body  # handlers do not report
    assert 'data-testid="my-department"' in body and world.sanitation.name in body
    assert 'id="m-map"' not in body
    sz = as_user(world.other_handler).get("/m/").content.decode()
    assert re.findall(r'data-testid="task" data-number="(\w+)"', sz) == [other.number]


def test_collector_home_is_unchanged(world, as_user):
    body = as_user(world.collector).get("/m/").content.decode()
    assert 'data-testid="m-report"' in body and 'id="m-map"' in body and 'data-testid="my-reports"' in body


def test_handler_case_page_offers_exactly_the_engine_operations(world, as_user):
    case = handling_case(world)
    c = as_user(world.handler)
    body = c.get(f"/m/cases/{case.pk}/").content.decode()
    offered = _testids(body, "op-") - {"message"}
    assert offered == {t.name for t in engine.available(case, world.handler)}
    assert {"accept_task", "feedback", "request_return", "request_extension", "request_suspension"} <= offered
    # the extension form has its declared inputs; feedback opens the camera
    assert 'name="request_extension-amount"' in body and 'name="request_extension-unit"' in body
    feedback = body[body.index('data-testid="op-feedback"') :]
    assert 'name="feedback-photos"' in feedback and 'capture="environment"' in feedback
    # the before photo is shown to the handler
    assert 'data-testid="photo-before"' in body and 'data-testid="photos-after"' in body

    r = c.post(f"/m/cases/{case.pk}/op/accept_task/", {"accept_task-version": case.version})
    assert r.status_code == 302 and r["Location"] == f"/m/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.signed_at is not None
    body = c.get(f"/m/cases/{case.pk}/").content.decode()
    assert "accept_task" not in _testids(body, "op-")

    r = c.post(
        f"/m/cases/{case.pk}/op/feedback/",
        {
            "feedback-version": case.version,
            "feedback-result": "已清运完毕",
            "feedback-photos": SimpleUploadedFile("after.png", PNG_1PX, "image/png"),
        },
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "feedback"
    assert sorted(kit.attachments_of(case).values_list("kind", flat=True)) == ["after", "before"]


def test_handler_operation_errors_stay_on_the_phone(world, as_user):
    case = handling_case(world)
    r = as_user(world.handler).post(f"/m/cases/{case.pk}/op/feedback/", {"feedback-version": case.version})
    assert r.status_code == 400
    body = r.content.decode()
    assert 'data-testid="op-message"' in body and "<details open" in body
    assert 'data-testid="m-report"' not in body


def test_other_departments_handler_cannot_see_the_case(world, as_user):
    case = handling_case(world)
    assert as_user(world.other_handler).get(f"/m/cases/{case.pk}/").status_code == 404


def test_handler_on_collector_pages_gets_where_to_go(world, as_user):
    c = as_user(world.handler)
    for path in ("/m/report/", "/m/categories.json", "/m/grids.geojson"):
        r = c.get(path)
        assert r.status_code == 403, path
        body = r.content.decode()
        assert 'data-testid="elsewhere"' in body and 'data-testid="go-phone"' in body


# --- roles with nothing on the phone --------------------------------------------------------


@pytest.mark.parametrize("who", ["dispatcher", "leader", "operator", "shift"])
def test_staff_without_phone_work_are_sent_to_the_staff_web(world, as_user, who):
    r = as_user(getattr(world, who)).get("/m/")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-testid="elsewhere"' in body
    assert re.search(r'<a href="/" data-testid="go-staff">', body)
    assert 'data-testid="go-portal"' not in body and 'data-testid="m-report"' not in body
    assert "staff web" in body  # gettext: English in tests
    assert as_user(getattr(world, who)).get(f"/m/cases/{report(world).pk}/").status_code == 200


def test_citizen_is_sent_to_the_portal(world, as_user):
    citizen = make_user("citizen")
    r = as_user(citizen).get("/m/")
    assert r.status_code == 200
    body = r.content.decode()
    assert re.search(r'<a href="/portal/" data-testid="go-portal">', body) and 'data-testid="go-staff"' not in body


def test_where_to_go_is_translated(world, as_user):
    c = as_user(world.dispatcher)
    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/m/"})
    body = c.get("/m/").content.decode()
    assert '<html lang="zh-Hans">' in body and 'data-testid="elsewhere"' in body


def test_unauthenticated_users_sign_in_first(world, client):
    for path in ("/m/", "/m/report/", "/m/categories.json", "/m/cases/1/"):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), path


# --- the category picker's data -------------------------------------------------------------


def test_categories_json(world, as_user):
    CategorySynonym.objects.create(category=world.garbage, name="积存垃圾")
    CategorySynonym.objects.create(category=world.cover, name="不明井盖")
    Category.objects.create(kind="event", code="0199", name="停用类别", parent=world.garbage.parent, active=False)
    data = as_user(world.collector).get("/m/categories.json").json()
    rows = {(c["kind"], c["code"]): c for c in data["categories"]}
    assert set(rows) == {("event", "0102"), ("event", "0201"), ("component", "0102")}  # minors, active only
    garbage = rows["event", "0102"]
    assert garbage == {
        "id": world.garbage.pk,
        "kind": "event",
        "code": "0102",
        "name": "暴露垃圾",
        "major": {"id": world.garbage.parent_id, "code": "01", "name": "市容环境"},
        "synonyms": ["积存垃圾"],
        "initials": "bllj",
        "pinyin": "baolulaji",
        "synonym_initials": ["jclj"],
        "recent": False,
    }
    cover = rows["component", "0102"]
    assert cover["initials"] == "wsjg" and cover["synonyms"] == ["不明井盖"] and cover["synonym_initials"] == ["bmjg"]
    assert rows["event", "0201"]["initials"] == "ffxgg"
    assert data["recent"] == []


def test_categories_json_puts_recent_choices_first(world, as_user):
    report(world, category=world.flyer)
    report(world, category=world.cover, i=1)
    report(world, category=world.cover)
    report(world, by=world.operator, source="hotline", category=world.garbage)  # someone else's
    data = as_user(world.collector).get("/m/categories.json").json()
    assert data["recent"] == [world.cover.pk, world.flyer.pk]
    assert [c["id"] for c in data["categories"]] == [world.cover.pk, world.flyer.pk, world.garbage.pk]
    assert [c["recent"] for c in data["categories"]] == [True, True, False]


def test_categories_cache_follows_changes(world, as_user):
    c = as_user(world.collector)
    assert len(c.get("/m/categories.json").json()["categories"]) == 3
    world.flyer.name = "乱张贴"
    world.flyer.save()
    CategorySynonym.objects.create(category=world.flyer, name="牛皮癣")
    flyer = next(x for x in c.get("/m/categories.json").json()["categories"] if x["id"] == world.flyer.pk)
    assert flyer["name"] == "乱张贴" and flyer["initials"] == "lzt" and flyer["synonyms"] == ["牛皮癣"]


def test_report_page_has_the_picker_and_previews(world, as_user):
    body = as_user(world.collector).get("/m/report/").content.decode()
    assert 'id="cat-picker"' in body and 'data-src="/m/categories.json"' in body
    assert 'id="cat-search"' in body and 'for="cat-search"' in body and 'for="cat-major"' in body
    assert 'name="cat_kind" value="event"' in body and 'name="cat_kind" value="component"' in body
    assert '<select name="category"' in body  # the plain select without script
    assert "mobile/picker.js" in body and "mobile/photos.js" in body and 'id="grid-warning"' in body
    assert "<script>" not in body  # no inline script (CSP)


# --- the fix side by side ---------------------------------------------------------------------


def test_case_page_shows_result_and_photos_side_by_side(world, as_user):
    case = handling_case(world)
    op(case, "accept_task", world.handler)
    op(case, "feedback", world.handler, result="已清运完毕，路面冲洗干净", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    body = as_user(world.collector).get(f"/m/cases/{case.pk}/").content.decode()
    assert 'data-testid="handling-result"' in body and "已清运完毕，路面冲洗干净" in body
    before = body[body.index('data-testid="photos-before"') : body.index('data-testid="photos-after"')]
    after = body[body.index('data-testid="photos-after"') :].split("</figure>")[0]
    assert before.count('data-testid="photo-before"') == 1 and after.count('data-testid="photo-after"') == 1
    assert {"check_pass", "check_fail"} <= _testids(body, "op-")


def test_case_page_shows_the_latest_result_after_rework(world, as_user):
    case = handling_case(world)
    op(case, "feedback", world.handler, result="第一次", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator)
    op(case, "check_fail", world.collector, reason="未清理", photos=[world.photo(world.collector)])
    op(case, "feedback", world.handler, result="第二次彻底清运", photos=[world.photo(world.handler)])
    body = as_user(world.collector).get(f"/m/cases/{case.pk}/").content.decode()
    assert "第二次彻底清运" in body and "第一次" not in body
    assert body.count('data-testid="photo-after"') == 2 and 'data-testid="photo-check"' in body


def test_case_page_without_photos_or_result_has_no_fix_section(world, as_user):
    from urbangrid.cases import actions

    lon, lat = world.point()
    case = actions.create_case(
        world.collector, source="collector", category=world.garbage, description="x", lon=lon, lat=lat
    )
    body = as_user(world.collector).get(f"/m/cases/{case.pk}/").content.decode()
    assert 'data-testid="fix"' not in body


# --- reports outside the collector's grids ------------------------------------------------------


def test_report_outside_own_grids_is_accepted_and_stays_visible_to_its_reporter(world, as_user):
    """Nothing the phone acknowledged is dropped: a report made outside the collector's grids
    belongs to the grid where it lies; its reporter still sees it (but does not act on it)."""
    from urbangrid.cases.models import Case

    c = as_user(world.collector)
    lon, lat = world.point(3)  # a grid of WG2: collector2's
    data = {"client_id": str(uuid.uuid4()), "category": world.garbage.pk, "description": "垃圾", "lon": lon, "lat": lat}
    r = c.post("/m/report/", data, HTTP_ACCEPT="application/json")
    assert r.status_code == 201
    case = Case.objects.get()
    assert case.unit_grid == world.grids[3] and case.work_grid == world.wg2 and case.reported_by == world.collector
    assert c.get(f"/m/cases/{case.pk}/").status_code == 200  # the reporter sees it
    assert as_user(world.collector2).get(f"/m/cases/{case.pk}/").status_code == 200  # the grid's collector too


def test_service_worker_keeps_data_and_case_pages(world, as_user):
    sw = as_user(world.handler).get("/m/sw.js").content.decode()
    assert "/m/categories.json" in sw and "/m/grids.geojson" in sw and '"/m/cases/"' in sw
    assert "/static/mobile/picker.js" in sw or "mobile/picker" in sw
