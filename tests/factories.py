"""Small factories for tests: plain functions that create valid objects with defaults."""

from __future__ import annotations

import itertools

from urbangrid.core.models import Department, DepartmentKind, Role, User
from urbangrid.core.roles import RoleCode

_seq = itertools.count(1)


def department(name: str | None = None, kind: str = DepartmentKind.PROFESSIONAL, parent=None, **kw) -> Department:
    n = next(_seq)
    return Department.objects.create(code=kw.pop("code", f"D{n:04d}"), name=name or f"部门{n}", kind=kind, parent=parent, **kw)


def user(*roles: str, department: Department | None = None, username: str | None = None, **kw) -> User:
    n = next(_seq)
    u = User.objects.create_user(username=username or f"user{n}", password="Demo-pass-2026", department=department, **kw)
    for code in roles:
        role, _ = Role.objects.get_or_create(code=code, defaults={"name": RoleCode(code).label})
        u.roles.add(role)
    return u
