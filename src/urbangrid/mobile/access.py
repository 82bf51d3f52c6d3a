"""Who the phone app (/m/) serves: every field role with work on the phone.

Collectors (监督员) report, verify and check; department handlers (专业部门) sign for tasks,
report the fix with photos and ask for a return, an extension or a suspension. A signed-in
user whose roles have nothing on the phone gets a page that says where to go (the staff web,
or the public portal for citizens) instead of a bare 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from urbangrid.core.models import User
from urbangrid.core.roles import RoleCode as R
from urbangrid.web.access import is_staff_user

#: The roles with work on the phone, in the order that names the app for a user with several.
PHONE_ROLES = (R.COLLECTOR, R.HANDLER)


def phone_roles(user: User) -> list[str]:
    if not (user.is_authenticated and user.is_active):
        return []
    return [r for r in PHONE_ROLES if user.has_role(r)]


def app_title(user: User) -> str:
    roles = phone_roles(user)
    if roles and roles[0] == R.HANDLER:
        return _("Department tasks")
    return _("Collector")


def phone_context(user: User) -> dict[str, Any]:
    """What every phone page knows about its user (title, which tabs)."""
    roles = phone_roles(user)
    return {
        "app_title": app_title(user),
        "is_collector": R.COLLECTOR in roles,
        "is_handler": R.HANDLER in roles,
    }


def elsewhere(request: HttpRequest, *, status: int = 200, wrong_page: bool = False) -> HttpResponse:
    """The page for a signed-in user who has nothing (here) on the phone: where to go instead."""
    user = request.user
    links: list[tuple[str, str, str]] = []
    if wrong_page and phone_roles(user):
        links.append((reverse("mobile:home"), _("Open my tasks on the phone"), "go-phone"))
    if is_staff_user(user):
        links.append((reverse("web:home"), _("Open the staff web"), "go-staff"))
    if user.has_role(R.CITIZEN) or not links:
        links.append((reverse("portal:home"), _("Open the public portal"), "go-portal"))
    heading = _("Nothing for you in the phone app")
    if wrong_page:
        heading = _("Not part of your work")
        message = _("This page of the phone app is not part of your work.")
    elif user.has_role(R.CITIZEN) and not is_staff_user(user):
        message = _("The phone app is for field staff. Report a problem or follow your reports on the public portal.")
    else:
        message = _(
            "The phone app serves field roles: collectors and department handlers. "
            "Your work is on the staff web; open it on a computer or in this browser."
        )
    return render(
        request,
        "mobile/elsewhere.html",
        {"heading": heading, "message": message, "links": links, **phone_context(user)},
        status=status,
    )


def phone_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed-in field staff only. Without `roles`, any phone role; others get `elsewhere`."""
    wanted = roles or PHONE_ROLES

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            mine = phone_roles(user)
            if not mine:
                return elsewhere(request)
            if not any(r in wanted for r in mine):
                return elsewhere(request, status=403, wrong_page=True)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
