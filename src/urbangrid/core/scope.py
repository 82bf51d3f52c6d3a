"""The one scope filter: every list, map and export for a user goes through `scope_q`.

Scope is data on the user (core.User.scope_*), on work grids (geo.WorkGrid.collectors) and
on the department tree; this module turns it into a query filter for any model that has a
department, a unit grid and/or a division code.
"""

from __future__ import annotations

from django.db.models import Q

from .models import Department, User
from .roles import RoleCode


def department_ids_for(user: User) -> set[int]:
    """The departments a user acts for: their own with its sub-units, plus explicit scope."""
    ids: set[int] = set()
    if user.department_id:
        ids |= user.department.descendant_ids()
    for dept in user.scope_departments.all():
        ids |= dept.descendant_ids()
    return ids


def sees_everything(user: User) -> bool:
    """City-wide staff and administrators see every record."""
    return bool(user.is_superuser or user.scope_city or user.has_role(RoleCode.ADMINISTRATOR))


def scope_q(
    user: User,
    *,
    department: str | None = "department",
    grid: str | None = "unit_grid",
    grid_code: str | None = "unit_grid__code",
    reporter: str | None = None,
) -> Q:
    """A Q object selecting the rows `user` may see.

    `department`, `grid` and `grid_code` are the field paths of the model being filtered
    (None when it has no such field). City-wide users and administrators see everything;
    a user with no scope at all sees nothing.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if sees_everything(user):
        return Q()
    q = Q(pk__in=[])
    if department:
        ids = department_ids_for(user)
        if ids:
            q |= Q(**{f"{department}__in": ids})
    if grid and user.has_role(RoleCode.COLLECTOR):
        q |= Q(**{f"{grid}__work_grid__collectors": user})
    if grid_code:
        for prefix in user.division_prefixes():
            q |= Q(**{f"{grid_code}__startswith": prefix})
    if reporter:  # everybody sees what they reported themselves (not: may act on it)
        q |= Q(**{reporter: user})
    return q


def visible_departments(user: User):
    if user.is_superuser or user.scope_city or user.has_role(RoleCode.ADMINISTRATOR):
        return Department.objects.all()
    return Department.objects.filter(pk__in=department_ids_for(user))
