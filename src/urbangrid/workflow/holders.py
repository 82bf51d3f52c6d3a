"""Who holds what (待办), derived from the definitions' `Hold`s and approvals: to-do filters for a
person and the people to tell about an object. Generic over every registered workflow.

Work arrived (待办到达): the engine calls `on_state_entered` after a step moved an object to a
state, and `on_request_made` after a step made a request that needs approval; the new holders
get a notification of kind "assigned". Every notification is also announced with the `notified`
signal (the notify app delivers it to SMS, WeCom/DingTalk or e-mail after the commit)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.dispatch import Signal
from django.utils.translation import gettext as _

from urbangrid.core.cache import ProcessCache

from .definition import Hold
from .models import Notification
from .registry import registration, visible_objects, workflow_for

#: kind of the notifications telling holders that work arrived
ASSIGNED = "assigned"
#: the key of the to-do bucket of pending requests (approvals) in `labelled_buckets`
APPROVALS = "approvals"

#: sent after `notify` wrote notifications (inside the caller's transaction): `notifications`
notified = Signal()


def todo_buckets(model: type, user) -> list[Q]:
    """One Q per (definition, state, hold) that `user` holds, and per pending request they must
    decide. Combine them as the caller's database likes (OR, or a UNION of indexed queries)."""
    return [q for _key, _label, q in labelled_buckets(model, user)]


def labelled_buckets(model: type, user) -> list[tuple[str, str, Q]]:
    """`todo_buckets` with a key and a label each: the state code and its label, or
    `APPROVALS` for pending requests the user must decide (badge counts per bucket)."""
    buckets: list[tuple[str, str, Q]] = []
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
            key = "+".join(states)
            buckets.append((key, " / ".join(wf.state_label(s) for s in states), variant & q))
        # requests waiting for this user's decision; naming their kinds lets the database use a
        # (partial) index on the few rows with a pending request
        mine = sorted({r for a in wf.approvals for r in (a.approver, a.higher) if r and user.has_role(r)})
        kinds = sorted({a.kind for a in wf.approvals if {a.approver, a.higher} & set(mine)})
        if kinds:
            q = variant & Q(pending_request__in=kinds) & ~Q(pending_request="") & Q(pending_approver__in=mine)
            buckets.append((APPROVALS, _("approvals"), q))
    return buckets


def held_states(model: type, user) -> list[str]:
    """The states in which `user` may hold objects of `model` (their to-do can hold nothing else):
    the states of their `Hold`s, and those where a request they decide can be pending."""
    states: list[str] = []
    for wf in registration(model).workflows.values():
        for state, holds in wf.holders.items():
            if any(user.has_role(h.role) for h in holds):
                states.append(state)
        mine = {r for a in wf.approvals for r in (a.approver, a.higher) if r and user.has_role(r)}
        kinds = {a.kind for a in wf.approvals if {a.approver, a.higher} & mine}
        for t in wf.transitions:
            if t.decides in kinds:
                states += t.sources
    return list(dict.fromkeys(states))


def todo_q(model: type, user) -> Q:
    """Everything of `model` waiting for `user` (scope is applied by the caller's list)."""
    q = Q(pk__in=[])
    for bucket in todo_buckets(model, user):
        q |= bucket
    return q


def holders(obj) -> list[Any]:
    """The people holding `obj` now: per `Hold` of its state, `users(obj)` or the role's users
    whose scope covers the object; plus the approver of a pending request."""
    wf = workflow_for(obj)
    holds: list[Hold] = list(wf.holders.get(obj.state, ()))
    if obj.pending_request and obj.pending_approver:
        holds.append(Hold(obj.pending_approver))
    return _people(obj, holds)


def _users_by_role() -> dict[str, list[Any]]:
    from urbangrid.core.models import User

    found: dict[str, list[Any]] = {}
    for u in User.objects.filter(is_active=True).prefetch_related("roles"):
        for role in u.roles.all():
            found.setdefault(role.code, []).append(u)
    return found


#: active users per role, per process (re-read every 30 s; cleared when a user is saved here)
_role_users = ProcessCache("role_users", _users_by_role, ttl=30.0, models=[get_user_model()])


def _people(obj, holds: Iterable[Hold]) -> list[Any]:
    from urbangrid.core.scope import sees_everything

    people: dict[int, Any] = {}
    for hold in holds:
        if hold.users is not None:
            candidates: Iterable[Any] = hold.users(obj)
        else:  # the role's users whose scope covers the object (city-wide staff need no query)
            candidates = [
                u
                for u in _role_users().get(hold.role, [])
                if sees_everything(u) or visible_objects(type(obj), u).filter(pk=obj.pk).exists()
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
    if rows:
        told = getattr(obj, "_told_in_step", None)
        if told is None or told[0] != obj.version:
            told = (obj.version, set())
            obj._told_in_step = told
        told[1].update(r.user_id for r in rows)
        notified.send(sender=Notification, notifications=rows)
    return len(rows)


# --- work arrived (待办到达) -------------------------------------------------------------------


def _already_told(obj, entry) -> set[int]:
    """People the step's effects told about `obj` already (e.g. "re-check this"): one message
    per person and step."""
    told = getattr(obj, "_told_in_step", None)
    if told is None or told[0] not in (entry.seq - 1, entry.seq):
        return set()
    return told[1]


def _assigned(obj, entry, people: Iterable[Any], state_text: str) -> int:
    skip = _already_told(obj, entry) | {entry.actor_id}
    wf = workflow_for(obj)
    text = _("New to-do: %(what)s %(obj)s, %(state)s.") % {"what": wf.label or "", "obj": obj, "state": state_text}
    return notify([u for u in people if u.pk not in skip], obj, ASSIGNED, " ".join(text.split()))


def on_state_entered(obj, entry) -> int:
    """After a step moved `obj` to a state (`entry` is its history entry, written in the same
    transaction): tell the state's holders, except the actor. Nothing when a later automatic
    step (run by the step's after-write work) already moved the object on: that step tells its
    own holders."""
    if obj.version != entry.seq or obj.state != entry.to_state:
        return 0
    wf = workflow_for(obj)
    if obj.state in wf.final:
        return 0
    return _assigned(obj, entry, holders(obj), wf.state_label(obj.state))


def on_request_made(obj, entry) -> int:
    """After a step made a request that needs approval: tell its approvers."""
    if obj.version != entry.seq or not (obj.pending_request and obj.pending_approver):
        return 0
    wf = workflow_for(obj)
    approval = wf.approval_by_kind.get(obj.pending_request)
    what = str(approval.label) if approval else obj.pending_request
    return _assigned(obj, entry, _people(obj, [Hold(obj.pending_approver)]), what)
