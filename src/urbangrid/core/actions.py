"""Actions of the organisation kernel."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from .models import Role
from .roles import DEFAULT_PERMISSIONS, RoleCode


def ensure_roles() -> dict[str, Role]:
    """Create every role with its default permission set (idempotent); returns roles by code."""
    roles = {}
    for code in RoleCode:
        role, _ = Role.objects.get_or_create(code=code.value, defaults={"name": str(code.label)})
        perms = DEFAULT_PERMISSIONS.get(code, [])
        if perms == ["*"]:
            role.permissions.set(Permission.objects.all())
        else:
            wanted = [p.split(".", 1) for p in perms]
            qs = Permission.objects.none()
            for app, codename in wanted:
                qs = qs | Permission.objects.filter(content_type__app_label=app, codename=codename)
            role.permissions.set(qs)
        roles[code.value] = role
    return roles
