"""The one scope filter (core.scope.scope_q) decides what every list, map and export shows."""

from __future__ import annotations

import pytest

from tests.factories import World, department, user
from urbangrid.cases import actions
from urbangrid.cases.models import Case
from urbangrid.core.actions import ensure_roles
from urbangrid.core.models import Role
from urbangrid.core.scope import department_ids_for, scope_q, visible_departments


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return World()


def visible(u) -> set[int]:
    return set(Case.objects.filter(scope_q(u)).values_list("pk", flat=True))


def make_cases(world):
    a = actions.create_case(
        world.collector,
        source="collector",
        category=world.garbage,
        description="a",
        lon=world.point(0)[0],
        lat=world.point(0)[1],
    )
    b = actions.create_case(
        world.collector2,
        source="collector",
        category=world.cover,
        description="b",
        lon=world.point(3)[0],
        lat=world.point(3)[1],
    )
    Case.objects.filter(pk=a.pk).update(department=world.crew)
    Case.objects.filter(pk=b.pk).update(department=world.municipal)
    return a, b


def test_city_wide_and_administrators_see_everything(world):
    a, b = make_cases(world)
    assert visible(world.operator) == {a.pk, b.pk}
    admin = user("administrator", department=world.center)
    assert visible(admin) == {a.pk, b.pk}


def test_department_sees_own_and_sub_units_cases(world):
    a, b = make_cases(world)
    assert visible(world.handler) == {a.pk}  # a is with 环卫一队, a sub-unit of 环卫部门
    assert visible(world.crew_handler) == {a.pk}
    assert visible(world.other_handler) == {b.pk}
    assert department_ids_for(world.handler) == {world.sanitation.pk, world.crew.pk}


def test_explicit_department_scope_adds_departments(world):
    a, b = make_cases(world)
    world.other_handler.scope_departments.add(world.sanitation)
    assert visible(world.other_handler) == {a.pk, b.pk}
    assert set(visible_departments(world.other_handler)) == {world.municipal, world.sanitation, world.crew}


def test_collectors_see_their_work_grids_only(world):
    a, b = make_cases(world)
    assert visible(world.collector) == {a.pk}
    assert visible(world.collector2) == {b.pk}


def test_division_scope_by_code_prefix(world):
    a, b = make_cases(world)
    street_leader = user("leader", department=department("街道分中心"), scope_division_codes="330483001")
    other_street = user("leader", department=department("另一街道"), scope_division_codes="330483002, 330483003")
    assert visible(street_leader) == {a.pk, b.pk}
    assert visible(other_street) == set()


def test_no_scope_inactive_or_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    make_cases(world)
    nobody = user("operator")
    assert visible(nobody) == set()
    world.operator.is_active = False
    assert visible(world.operator) == set()
    assert not Case.objects.filter(scope_q(AnonymousUser())).exists()


def test_roles_are_permission_sets_and_users_hold_several(db):
    roles = ensure_roles()
    assert set(roles) >= {
        "collector",
        "operator",
        "shift_leader",
        "dispatcher",
        "handler",
        "enforcement_officer",
        "legal_reviewer",
        "inspector",
        "leader",
        "administrator",
        "citizen",
    }
    assert roles["dispatcher"].permissions.filter(codename="view_case").exists()
    assert not roles["citizen"].permissions.exists()
    both = user("operator", "shift_leader")
    assert both.has_role("operator") and both.has_role("shift_leader") and not both.has_role("dispatcher")
    assert Role.objects.count() == 11
