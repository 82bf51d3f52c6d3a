"""Live work (实时待办): what the header badge polls every few seconds.

`GET /live/counts.json` answers the signed-in staff member's to-do counts per bucket (the states
they hold, from the definitions' `Hold`s, and the requests they must approve), their unread
notifications (the newest few, with links) and whether a new one (after `?since=<id>`) is
urgent. web/static/web/live.js shows them and refreshes the to-do list in place. Opening an
object's page marks its notifications read (`mark_read`)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from urbangrid.notify.subjects import is_urgent, object_path, subjects
from urbangrid.workflow import registry
from urbangrid.workflow.holders import APPROVALS, labelled_buckets
from urbangrid.workflow.models import Notification

from .access import is_staff_user

#: how many unread notifications the answer lists
NEWEST = 5


def todo_counts(user) -> dict[str, Any]:
    """Counts per to-do bucket (per state held, and approvals), in the definitions' state order."""
    todo = reverse("web:todo")
    per_state: dict[str, int] = {}
    labels: dict[str, str] = {}
    order: list[str] = []
    approvals = 0
    for model in registry.models():
        visible = registry.visible_objects(model, user).order_by()
        for wf in registry.workflows(model):
            for state in wf.states:
                if state not in labels:
                    labels[state] = wf.state_label(state)
                    order.append(state)
        for key, _label, q in labelled_buckets(model, user):
            qs = visible.filter(q)
            if key == APPROVALS:
                approvals += qs.count()
                continue
            for row in qs.values("state").annotate(n=Count("pk", distinct=True)):
                per_state[row["state"]] = per_state.get(row["state"], 0) + row["n"]
    buckets = [
        {"key": s, "label": labels[s], "count": per_state[s], "url": f"{todo}?state={s}"}
        for s in order
        if per_state.get(s)
    ]
    if approvals:
        buckets.append({"key": APPROVALS, "label": _("approvals"), "count": approvals, "url": todo})
    return {"total": sum(b["count"] for b in buckets), "buckets": buckets}


def _since(request: HttpRequest) -> int | None:
    raw = request.GET.get("since", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def unread(user, since: int | None) -> dict[str, Any]:
    mine = Notification.objects.filter(user=user, read_at__isnull=True)
    newest = list(mine.select_related("content_type").order_by("-id")[:NEWEST])
    fresh = list(mine.filter(id__gt=since).select_related("content_type").order_by("-id")[:50]) if since else []
    objects = subjects([*newest, *fresh])

    def urgent(n: Notification) -> bool:
        return is_urgent(objects.get((n.content_type_id, n.object_id)))

    return {
        "unread": mine.count(),
        "latest_id": max((n.id for n in newest), default=0),
        "urgent": any(urgent(n) for n in fresh),
        "notifications": [
            {
                "id": n.id,
                "kind": n.kind,
                "message": n.message,
                "url": object_path(f"{n.content_type.app_label}.{n.content_type.model}", n.object_id),
                "urgent": urgent(n),
                "created_at": timezone.localtime(n.created_at).strftime("%Y-%m-%d %H:%M"),
            }
            for n in newest
        ],
    }


@require_GET
def counts(request: HttpRequest) -> JsonResponse:
    """The badge's data (staff only: 401/403 as JSON, never a sign-in page)."""
    user = request.user
    if not user.is_authenticated:
        response = JsonResponse({"error": _("Sign in first.")}, status=401)
    elif not is_staff_user(user):
        response = JsonResponse({"error": _("This page is for staff.")}, status=403)
    else:
        response = JsonResponse({**todo_counts(user), **unread(user, _since(request))})
    response["Cache-Control"] = "no-store"
    return response


def mark_read(user, obj) -> int:
    """The user opened `obj`: its notifications to them are read."""
    if not getattr(user, "is_authenticated", False):
        return 0
    ct = ContentType.objects.get_for_model(type(obj))
    return Notification.objects.filter(user=user, content_type=ct, object_id=obj.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
