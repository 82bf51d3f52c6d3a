"""Who may open the staff web, and which workbench each role lands on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from urbangrid.core.models import User
from urbangrid.core.roles import RoleCode as R

#: The order in which a user with several roles gets a workbench title and landing page.
ROLE_ORDER = (R.OPERATOR, R.SHIFT_LEADER, R.DISPATCHER, R.HANDLER, R.LEADER, R.ADMINISTRATOR, R.COLLECTOR)
STAFF_ROLES = frozenset(ROLE_ORDER)


def primary_role(user: User) -> str | None:
    return next((r for r in ROLE_ORDER if user.has_role(r)), None)


def is_staff_user(user: User) -> bool:
    return user.is_authenticated and user.is_active and (user.is_superuser or bool(user.role_codes & STAFF_ROLES))


def staff_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed-in staff only; with `roles`, only users holding one of them (403 otherwise)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_staff_user(user):
                raise PermissionDenied(_("This page is for staff."))
            if roles and not user.has_role(*roles):
                raise PermissionDenied(_("Your role does not give access to this page."))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
