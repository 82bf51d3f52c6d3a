"""Who holds what (待办), derived from the definitions' `Hold`s and approvals: to-do filters for a
person and the people to tell about an object. Generic over every registered workflow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from .definition import Hold
from .models import Notification
from .registry import registration, visible_objects, workflow_for


def todo_buckets(model: type, user) -> list[Q]:
    """One Q per (definition, state, hold) that `user` holds, and per pending request they must
    decide. Combine them as the caller's database likes (OR, or a UNION of indexed queries)."""
    buckets: list[Q] = []
    reg = registration(model)
    several = len(reg.workflows) > 1
    for wf in reg.workflows.values():
        variant = Q(workflow=wf.name) if several else Q()
        by_where: dict[Any, list[str]] = {}
        for state, holds in wf.holders.items():
            for hold in holds:
                if user.has_role(hold.role):
                    by_where.setdefault((hold.role, hold.where), []).append(state)
        for (_role, where), states in by_where.items():
            q = Q(state__in=states) if len(states) > 1 else Q(state=states[0])
            if where is not None:
                extra = where(user)
                if extra is None:
                    continue
                q &= extra
            buckets.append(variant & q)
        roles = {a.approver for a in wf.approvals} | {a.higher for a in wf.approvals if a.higher}
        mine = sorted(r for r in roles if user.has_role(r))
        if mine:
            buckets.append(variant & ~Q(pending_request="") & Q(pending_approver__in=mine))
    return buckets


def todo_q(model: type, user) -> Q:
    """Everything of `model` waiting for `user` (scope is applied by the caller's list)."""
    q = Q(pk__in=[])
    for bucket in todo_buckets(model, user):
        q |= bucket
    return q


def holders(obj) -> list[Any]:
    """The people holding `obj` now: per `Hold` of its state, `users(obj)` or the role's users
    whose scope covers the object; plus the approver of a pending request."""
    from urbangrid.core.models import User

    wf = workflow_for(obj)
    holds: list[Hold] = list(wf.holders.get(obj.state, ()))
    if obj.pending_request and obj.pending_approver:
        holds.append(Hold(obj.pending_approver))
    people: dict[int, Any] = {}
    for hold in holds:
        if hold.users is not None:
            candidates: Iterable[Any] = hold.users(obj)
        else:
            candidates = [
                u
                for u in User.objects.filter(is_active=True, roles__code=hold.role).distinct()
                if visible_objects(type(obj), u).filter(pk=obj.pk).exists()
            ]
        for u in candidates:
            if u.is_active:
                people[u.pk] = u
    return list(people.values())


def notify(users: Iterable[Any], obj, kind: str, message: str) -> int:
    """Leave a message for each of `users` about `obj`."""
    ct = ContentType.objects.get_for_model(type(obj))
    rows = [
        Notification(user=u, content_type=ct, object_id=obj.pk, kind=kind, message=str(message)[:300]) for u in users
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)
