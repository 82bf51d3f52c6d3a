"""Every loop operation from the case page: its form built from the declared inputs, done by the
right role, refused for every other; engine errors on their fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cases.test_loop import op, report, to_handling
from tests.factories import PNG_1PX
from urbangrid.cases.models import Case
from urbangrid.web.shared.operations import OperationForm
from urbangrid.workflow.definition import InputType
from urbangrid.workflow.models import History

ROLE_USERS = ("collector", "operator", "shift", "dispatcher", "leader", "handler")


def _hotline(w):
    return report(w, by=w.operator, source="hotline")


def _verifying(w):
    case = _hotline(w)
    op(case, "send_verify", w.operator)
    return case


def _accepted(w):
    case = report(w)
    op(case, "accept", w.operator)
    return case


def _registered(w):
    case = _accepted(w)
    op(case, "register", w.shift)
    return case


def _handling(w):
    return to_handling(w, report(w))


def _return_requested(w):
    case = _handling(w)
    op(case, "request_return", w.handler, reason="不属于我单位")
    return case


def _pending(kind: str, data: dict[str, Any]):
    def setup(w):
        case = _handling(w)
        op(case, f"request_{kind}", w.handler, **data)
        return case

    return setup


def _suspended(w):
    case = _pending("suspension", {"reason": "汛期"})(w)
    op(case, "approve_suspension", w.dispatcher)
    return case


def _feedback(w):
    case = _handling(w)
    op(case, "feedback", w.handler, result="ok", photos=[w.photo(w.handler)])
    return case


def _checking(w):
    case = _feedback(w)
    op(case, "send_check", w.operator)
    return case


def _pending_close(w):
    case = _checking(w)
    op(case, "check_pass", w.collector, photos=[w.photo(w.collector)])
    return case


def _void_requested(w):
    case = _registered(w)
    op(case, "request_void", w.dispatcher, reason="重复")
    return case


def _self_handled(w):
    case = report(w, category=w.flyer)
    op(case, "self_fix", w.collector, photos=[w.photo(w.collector)])
    return case


def _closed(w):
    case = report(w, by=w.operator, source="hotline", reporter={"name": "张伟", "phone": "13812345678"})
    w.close_public(case)
    return case


def _rechecking(w):
    case = _closed(w)
    op(case, "dispute", w.operator, reason="市民称未解决")
    return case


PHOTO = "__photo__"
REASON = {"reason": "理由"}
#: operation -> (setup, who performs it, form data)
SCENARIOS: dict[str, tuple[Callable, str, dict[str, Any]]] = {
    "send_verify": (_hotline, "operator", {}),
    "verify": (_verifying, "collector", {"photos": PHOTO, "exists": "true"}),
    "self_fix": (lambda w: report(w, category=w.flyer), "collector", {"photos": PHOTO}),
    "confirm_self_fix": (_self_handled, "operator", {}),
    "refuse_self_fix": (_self_handled, "operator", REASON),
    "merge": (lambda w: (report(w), report(w))[1], "operator", {"target": "__first__"}),
    "accept": (report, "operator", {}),
    "reject": (report, "operator", REASON),
    "register": (_accepted, "shift", {"urgency": "urgent"}),
    "not_register": (_accepted, "shift", REASON),
    "send_back": (_accepted, "shift", REASON),
    "dispatch": (_registered, "dispatcher", {"department": "__sanitation__", "instructions": "尽快"}),
    "return_to_shift": (_registered, "dispatcher", REASON),
    "reassign": (_handling, "dispatcher", {"department": "__municipal__", **REASON}),
    "accept_task": (_handling, "handler", {}),
    "request_return": (_handling, "handler", REASON),
    "approve_return": (_return_requested, "dispatcher", {}),
    "reject_return": (_return_requested, "dispatcher", REASON),
    "request_extension": (_handling, "handler", {"amount": "1", "unit": "working_days", **REASON}),
    "approve_extension": (_pending("extension", {"reason": "x", "amount": 1}), "dispatcher", {}),
    "reject_extension": (_pending("extension", {"reason": "x", "amount": 1}), "dispatcher", REASON),
    "request_suspension": (_handling, "handler", REASON),
    "approve_suspension": (_pending("suspension", {"reason": "x"}), "dispatcher", {}),
    "reject_suspension": (_pending("suspension", {"reason": "x"}), "dispatcher", REASON),
    "resume": (_suspended, "dispatcher", {}),
    "feedback": (_handling, "handler", {"result": "已处理", "photos": PHOTO}),
    "send_check": (_feedback, "operator", {}),
    "check_pass": (_checking, "collector", {"photos": PHOTO}),
    "check_fail": (_checking, "collector", {"photos": PHOTO, **REASON}),
    "close": (_pending_close, "shift", {}),
    "reopen": (_pending_close, "shift", REASON),
    "urge": (_handling, "leader", REASON),
    "supervise": (_handling, "leader", {"within": "2", "unit": "working_days", **REASON}),
    "request_void": (_registered, "dispatcher", REASON),
    "approve_void": (_void_requested, "shift", {}),
    "reject_void": (_void_requested, "shift", REASON),
    "return_visit": (_closed, "operator", {"outcome": "satisfied", "note": "满意"}),
    "dispute": (_closed, "operator", {"channel": "return_visit", **REASON}),
    "recheck_confirm": (_rechecking, "collector", {"photos": PHOTO, **REASON}),
    "recheck_reject": (_rechecking, "collector", {"photos": PHOTO}),
}
#: operations that are not performed in the staff web (citizens rate on the portal)
NOT_ON_THE_STAFF_WEB = {"rate"}


def _loop():
    from urbangrid.cases.loop import URBAN_LOOP

    return URBAN_LOOP


def test_every_operation_of_the_loop_has_a_scenario():
    names = {t.name for t in _loop().operations()}
    assert names - NOT_ON_THE_STAFF_WEB == set(SCENARIOS)


def _post_data(world, name: str, case: Case, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {f"{name}-version": case.version}
    for key, value in data.items():
        if value == PHOTO:
            value = SimpleUploadedFile("p.png", PNG_1PX, "image/png")
        elif value == "__first__":
            value = Case.objects.order_by("pk").first().number
        elif value == "__sanitation__":
            value = world.sanitation.pk
        elif value == "__municipal__":
            value = world.municipal.pk
        out[f"{name}-{key}"] = value
    return out


def _snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return case.state, case.version, History.objects.filter(object_id=case.pk).count()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_operation_by_right_role_only(world, as_user, name):
    setup, who, data = SCENARIOS[name]
    case = setup(world)
    transition = case.get_workflow().get(name)
    url = f"/cases/{case.pk}/op/{name}/"
    right = getattr(world, who)
    # the case page offers the operation to the right role, as a form with its declared inputs
    page = as_user(right).get(f"/cases/{case.pk}/").content.decode()
    assert f'data-testid="op-{name}"' in page
    assert f'name="{name}-version"' in page
    for inp in transition.inputs:
        assert f'name="{name}-{inp.name}"' in page, inp.name

    for other in ROLE_USERS:
        user = getattr(world, other)
        if user.has_role(*transition.roles):
            continue
        before = _snapshot(case)
        response = as_user(user).post(url, _post_data(world, name, case, data), follow=False)
        assert response.status_code in (400, 403, 404, 409), (other, response.status_code)
        if response.status_code != 404:  # outside the user's scope: the case does not exist for them
            assert b'role="alert"' in response.content or b"msg-error" in response.content
            assert f'data-testid="op-{name}"'.encode() not in response.content or response.status_code == 403
        assert _snapshot(case) == before, other

    response = as_user(right).post(url, _post_data(world, name, case, data))
    assert response.status_code == 302, response.content.decode()[:3000]
    case.refresh_from_db()
    assert History.objects.filter(object_id=case.pk).order_by("-seq").first().action == name


def test_engine_field_errors_are_shown_next_to_the_field(world, as_user):
    case = _handling(world)
    response = as_user(world.handler).post(
        f"/cases/{case.pk}/op/feedback/", {"feedback-version": case.version, "feedback-result": "done"}
    )
    assert response.status_code == 400
    assert b'data-testid="error-photos"' in response.content
    assert _snapshot(case)[0] == "handling"


def test_stale_version_gets_the_conflict_message(world, as_user):
    case = report(world)
    stale = case.version
    op(case, "accept", world.operator)
    response = as_user(world.shift).post(
        f"/cases/{case.pk}/op/send_back/", {"send_back-version": stale, "send_back-reason": "x"}
    )
    assert response.status_code == 409
    assert b'data-testid="op-message"' in response.content
    assert _snapshot(case)[0] == "accepted"


def test_common_phrases_offered_per_operation(world, as_user):
    from urbangrid.web.models import CommonPhrase

    CommonPhrase.objects.create(text="不属于受理范围", operation="reject")
    CommonPhrase.objects.create(text="请尽快处理", operation="urge")
    body = as_user(world.operator).get(f"/cases/{report(world).pk}/").content.decode()
    assert "不属于受理范围" in body and "请尽快处理" not in body


# --- forms from the declared inputs ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(t.name for t in _loop().operations()))
def test_a_form_for_every_operation_renders_from_its_inputs(world, name):
    case = _handling(world)
    t = _loop().get(name)
    form = OperationForm(t, case)
    assert list(form.fields) == ["version", *[i.name for i in t.inputs]]
    assert form.has_inputs == bool(t.inputs)
    assert form.has_files == any(i.type is InputType.PHOTOS for i in t.inputs)
    html = str(form)
    assert f'name="{name}-version" value="{case.version}"' in html and 'type="hidden"' in html
    for inp in t.inputs:
        field = form[inp.name]
        assert str(field.label) == str(inp.label)
        widget = str(field)
        if inp.type is not InputType.PHOTOS and inp.help:
            assert str(field.help_text) == str(inp.help)
        assert (" required" in widget) == inp.required, (inp.name, widget)
        if inp.type is InputType.PHOTOS:
            assert 'type="file"' in widget and "multiple" in widget and 'accept="image/*"' in widget
        elif inp.type is InputType.BOOL:
            assert ('type="radio"' if inp.required else 'type="checkbox"') in widget
        elif inp.choices is not None:
            assert widget.startswith("<select")
            for value, label in inp.choice_list(case):
                assert f'value="{value}"' in widget and str(label) in widget
            initial = inp.initial_for(case)
            if initial not in (None, ""):
                assert f'value="{initial}" selected' in widget
        elif inp.type is InputType.TEXTAREA:
            assert widget.startswith("<textarea")
        elif inp.type in (InputType.INT, InputType.DECIMAL):
            assert 'type="number"' in widget
        else:
            assert 'type="text"' in widget
            initial = inp.initial_for(case)
            if initial not in (None, ""):
                assert f'value="{initial}"' in widget
    # common phrases go to the reason-like textarea, when there is one
    target = form.phrase_field
    if target:
        assert _loop().get(name).input(target).type is InputType.TEXTAREA
        assert form.phrase_target == f"id_{name}-{target}"


def test_register_form_offers_the_declared_initial_values(world, as_user):
    case = _accepted(world)
    body = as_user(world.shift).get(f"/cases/{case.pk}/").content.decode()
    # the category is chosen from the active minor categories, the case's own preselected
    assert '<select name="register-category"' in body
    assert '<option value="event:0102" selected>0102 ' in body
    assert '<option value="normal" selected>' in body  # urgency from the case


# --- engine errors on the form --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "setup", "who", "data", "field"),
    [
        ("feedback", _handling, "handler", {"result": "done"}, "photos"),
        ("request_extension", _handling, "handler", {"reason": "x", "amount": "-1"}, "amount"),
        ("request_extension", _handling, "handler", {"reason": "x", "amount": "²"}, "amount"),
        ("supervise", _handling, "leader", {"reason": "x", "within": "9" * 40}, "within"),
        ("verify", _verifying, "collector", {"exists": "maybe", "photos": PHOTO}, "exists"),
        ("dispatch", _registered, "dispatcher", {"department": "99999999999999999999"}, "department"),
        ("merge", lambda w: (report(w), report(w))[1], "operator", {"target": "nothing"}, "target"),
    ],
)
def test_a_field_error_from_the_engine_lands_on_its_field(world, as_user, name, setup, who, data, field):
    case = setup(world)
    before = _snapshot(case)
    response = as_user(getattr(world, who)).post(f"/cases/{case.pk}/op/{name}/", _post_data(world, name, case, data))
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-testid="error-{field}"' in body
    assert 'data-testid="op-message"' in body
    assert "<details open>" in body  # the form stays open with what was typed
    assert _snapshot(case) == before


def test_failed_step_keeps_no_uploaded_photo(world, as_user):
    from urbangrid.workflow.models import Attachment

    case = _checking(world)
    stale = case.version - 1
    count = Attachment.objects.count()
    response = as_user(world.collector).post(
        f"/cases/{case.pk}/op/check_pass/",
        _post_data(world, "check_pass", case, {"photos": PHOTO}) | {"check_pass-version": stale},
    )
    assert response.status_code == 409
    assert Attachment.objects.count() == count


def test_one_error_mapping_for_all_forms():
    from django import forms

    from urbangrid.web.shared.errors import apply_error
    from urbangrid.workflow.errors import Conflict, Invalid

    class F(forms.Form):
        photos = forms.CharField(required=False)
        address = forms.CharField(required=False)

    form = F({})
    form.is_valid()
    message = apply_error(
        form, Invalid("Bad.", fields={"file": "Too large.", "lon": "Outside.", "x": "Odd."}), {"lon": "address"}
    )
    assert message == "Bad."
    assert form.errors["photos"] == ["Too large."] and form.errors["address"] == ["Outside."]
    assert form.non_field_errors() == ["Odd."]
    form = F({})
    form.is_valid()
    message = apply_error(form, Conflict("version 3, you had 2"))
    assert "3" not in message and form.non_field_errors() == [message]
    form = F({})
    form.is_valid()
    apply_error(form, Invalid("Only a message."), add_message=False)
    assert not form.errors
