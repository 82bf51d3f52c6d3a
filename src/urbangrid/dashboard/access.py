"""Who sees the dashboards: leaders, administrators and center staff see the whole city; a
department's staff see the cases charged to their own department (and its sub-units)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from urbangrid.core.models import DepartmentKind
from urbangrid.core.roles import RoleCode as R
from urbangrid.core.scope import department_ids_for

#: as the evaluation API: these roles and the centers' staff see the whole city
CENTER_ROLES = (R.LEADER, R.ADMINISTRATOR, R.OPERATOR, R.SHIFT_LEADER, R.DISPATCHER)
CENTER_KINDS = (DepartmentKind.SUPERVISION_CENTER, DepartmentKind.COMMAND_CENTER, DepartmentKind.SUB_CENTER)


def _sees_all(user) -> bool:
    return bool(
        user.is_superuser
        or user.has_role(*CENTER_ROLES)
        or (user.department_id and user.department.kind in CENTER_KINDS)
    )


@dataclass(frozen=True)
class Viewer:
    """What the dashboards count for a user: everything (`departments` None) or the cases
    charged to these departments."""

    departments: frozenset[int] | None
    own_department: int | None = None

    @property
    def key(self) -> str:
        return "all" if self.departments is None else "d" + ",".join(map(str, sorted(self.departments)))


def viewer_of(user) -> Viewer:
    """PermissionDenied for users who may not see any dashboard."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Sign in first."))
    if _sees_all(user):
        return Viewer(None)
    ids = department_ids_for(user)
    if not ids:
        raise PermissionDenied(_("The dashboards are for leaders, center staff and departments."))
    return Viewer(frozenset(ids), user.department_id)


def dashboard_view(json: bool = False):
    """Signed-in users with dashboard access; the view gets `viewer` as keyword."""

    def decorator(view):
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                if json:
                    return JsonResponse({"error": "not signed in"}, status=401)
                return redirect_to_login(request.get_full_path())
            kwargs["viewer"] = viewer_of(request.user)
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator
