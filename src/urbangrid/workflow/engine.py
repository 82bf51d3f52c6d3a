"""The workflow engine (流程引擎): `create()` and `transition()`, the only ways a workflow
object changes state.

A step checks the state (409), the actor's role (403), the guards (scope and business rules:
403/400), the declared inputs (400 with per-field messages), applies the effects, moves the
stage clock and the named clocks, bumps the version and appends a hash-chained `History`
entry, all in one database transaction. Writes are optimistic: the step is decided on the
caller's copy and written with `UPDATE … WHERE version = …`; when the row moved on, the step
is decided again on the row read under a lock, so errors describe what the database holds
(409 for a stale version). The engine knows no case kind: see `registry` and `definition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import clock, holders, store
from .clock import WARN_FRACTION, add_time, minutes_between
from .definition import Context, Transition, Workflow, clean_inputs, pick_role
from .errors import Conflict, Invalid, NotAllowed, WorkflowError, WrongState
from .models import History, Link
from .registry import choose

__all__ = [
    "WARN_FRACTION",
    "add_time",
    "available",
    "create",
    "history_for",
    "link",
    "link_objects",
    "minutes_between",
    "record",
    "transition",
]


def _history_entry(ctx: Context, from_state: str, deadline_before, stage_info: dict[str, Any]) -> History:
    obj = ctx.obj
    reason = ctx.data.get("reason") or ctx.data.get("note") or ""
    entry = History(
        content_type_id=ContentType.objects.get_for_model(type(obj)).pk,
        object_id=obj.pk,
        seq=obj.version,
        action=ctx.transition.name,
        from_state=from_state,
        to_state=obj.state,
        actor=ctx.actor if getattr(ctx.actor, "pk", None) else None,
        role=ctx.role,
        department_id=getattr(ctx.actor, "department_id", None),
        reason=str(reason),
        payload=ctx.payload,
        attachments=ctx.attachments,
        stage=stage_info.get("stage", ""),
        stage_limit=stage_info.get("stage_limit", ""),
        time_used_minutes=stage_info.get("time_used_minutes"),
        overdue=stage_info.get("overdue", False),
        deadline_before=deadline_before,
        deadline_after=obj.deadline,
        created_at=ctx.now,
    )
    return entry


def _context(obj, t: Transition, wf: Workflow, actor, data, now: datetime, role: str | None = None) -> Context:
    if role is None:
        role = pick_role(actor, t) or ""
    return Context(obj=obj, actor=actor, role=role, data=dict(data or {}), transition=t, now=now, workflow=wf)


def _check(ctx: Context) -> None:
    """Guards first (they decide whether the actor may do this at all), then the inputs."""
    for guard in ctx.transition.guards:
        guard(ctx)
    clean_inputs(ctx)


def _attnames(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def _snapshot(obj) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in _attnames(type(obj))}


def _restore(obj, snapshot: dict[str, Any]) -> None:
    for name, value in snapshot.items():
        setattr(obj, name, value)


class _Stale(Exception):
    """The row moved on between reading and writing: decide again on the locked row."""


def _step(obj, t: Transition, wf: Workflow, actor, version: int, data, now: datetime):
    """Check and apply `t` to `obj` and write it (inside the caller's transaction)."""
    if obj.state not in t.sources:
        raise WrongState(
            _("“%(op)s” is not possible while the state is “%(state)s”.")
            % {"op": t.label, "state": wf.state_label(obj.state)}
        )
    ctx = _context(obj, t, wf, actor, data, now)
    _check(ctx)
    before = _snapshot(obj)
    from_state, deadline_before = obj.state, obj.deadline
    for effect in t.effects:
        effect(ctx)
    if t.target:
        obj.state = str(t.target)
    stage_info = clock.apply_stage_clock(ctx, t.clock_op)
    if obj.state in wf.final:
        obj.light = "green"
    obj.version = version + 1
    if t.clocks:
        ctx.payload["clocks"] = clock.apply_named_clocks(ctx, t.clocks)
    entry = _history_entry(ctx, from_state, deadline_before, stage_info)
    changed = [n for n, v in before.items() if getattr(obj, n) != v]
    if not store.update(obj, changed, version, entry):
        raise _Stale
    for after in ctx.after_write:
        after(entry)
    _work_arrived(obj, entry, moved=bool(t.target), request_made=before.get("pending_request") != obj.pending_request)
    return entry


def _work_arrived(obj, entry: History, *, moved: bool, request_made: bool) -> None:
    """After-write hook (待办到达): tell the people who hold `obj` now (`holders`). It decides
    nothing about the step; delivery outside the database happens after the commit."""
    if moved:
        holders.on_state_entered(obj, entry)
    elif request_made and obj.pending_request:
        holders.on_request_made(obj, entry)


def transition(
    obj,
    action: str,
    actor,
    *,
    version: int,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> History:
    """Perform `action` on `obj` as `actor` (a user, or `SYSTEM` for automatic steps), who saw
    the object at `version`. Raises NotAllowed, Conflict, WrongState or Invalid; on any error
    nothing is changed. On success `obj` is updated in place."""
    model = type(obj)
    wf: Workflow = obj.get_workflow()
    t = wf.get(action)
    if t.is_creation:
        raise Invalid(_("“%(op)s” creates a new record; it cannot be applied to an existing one.") % {"op": t.label})
    now = now or timezone.now()
    if obj.pk is not None and obj.version == version:
        snapshot = _snapshot(obj)
        try:
            with transaction.atomic():
                return _step(obj, t, wf, actor, version, data, now)
        except (_Stale, WorkflowError):
            _restore(obj, snapshot)  # decide again on what the database holds
        except BaseException:
            _restore(obj, snapshot)
            raise
    with transaction.atomic():
        locked = store.lock(model, obj.pk)
        if locked.version != version:
            raise Conflict(
                _(
                    "This record was changed by someone else (version %(current)s, you had %(yours)s). "
                    "Reload it and try again."
                )
                % {"current": locked.version, "yours": version}
            )
        try:
            entry = _step(locked, t, wf, actor, version, data, now)
        except _Stale:  # cannot happen under the lock; kept as a clear error if it does
            raise Conflict(_("The record changed just now. Reload and try again.")) from None
    for name in _attnames(model):
        setattr(obj, name, getattr(locked, name))
    return entry


def create(
    obj,
    action: str,
    actor,
    *,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> History:
    """Insert a new workflow object through its creation transition (e.g. "report"), following
    the definition its registration chooses for it. Joins the caller's transaction without a
    savepoint: when it raises, the caller's block (or its savepoint) must be rolled back."""
    wf = choose(obj)
    obj.workflow = wf.name
    t = wf.get(action)
    if not t.is_creation or t.target is None:
        raise Invalid(_("“%(op)s” does not create a record.") % {"op": t.label})
    now = now or timezone.now()
    ctx = _context(obj, t, wf, actor, data, now)
    _check(ctx)
    # Inside a caller's transaction no savepoint: a failure here leaves nothing worth keeping of
    # the caller's block either (the object does not exist), and it propagates to the caller.
    with transaction.atomic(savepoint=False):
        for effect in t.effects:
            effect(ctx)
        obj.state = str(t.target)
        obj.version = 1
        if t.timer:
            clock.start_stage(obj, wf, t.timer, now)
        entry = _history_entry(ctx, "", None, {})
        store.insert(obj, entry)
        if t.clocks:
            clock.apply_named_clocks(ctx, t.clocks)
        for after in ctx.after_write:
            after(entry)
        _work_arrived(obj, entry, moved=True, request_made=False)
    return entry


def available(obj, actor) -> list[Transition]:
    """The operations `actor` may perform on `obj` now (state, role and guards pass; inputs
    are not checked)."""
    wf = obj.get_workflow()
    result = []
    now = timezone.now()
    for t in wf.operations():
        if obj.state not in t.sources:
            continue
        role = pick_role(actor, t, raise_=False)
        if role is None:
            continue
        ctx = _context(obj, t, wf, actor, {}, now, role)
        try:
            for guard in t.guards:
                guard(ctx)
        except (NotAllowed, Invalid):
            continue
        result.append(t)
    return result


def history_for(obj):
    return (
        History.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)
        .select_related("actor", "department")
        .order_by("seq")
    )


def link(source, target, kind: str, actor, *, now: datetime | None = None) -> Link:
    """Link two workflow objects (see `Link`); inside the caller's transaction."""
    ct = ContentType.objects.get_for_model
    return Link.objects.create(
        kind=kind,
        source_type=ct(type(source)),
        source_id=source.pk,
        target_type=ct(type(target)),
        target_id=target.pk,
        created_at=now or timezone.now(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def record(obj, action: str, actor, *, payload: Mapping[str, Any], role: str = "", now: datetime | None = None):
    """Append a history entry that changes no state (e.g. "linked" to another object); the
    version moves on like after any step. Runs in (or joins) a transaction."""
    model = type(obj)
    now = now or timezone.now()
    with transaction.atomic():
        locked = store.lock(model, obj.pk)
        version = locked.version
        locked.version = version + 1
        entry = History(
            content_type_id=ContentType.objects.get_for_model(model).pk,
            object_id=locked.pk,
            seq=locked.version,
            action=action,
            from_state=locked.state,
            to_state=locked.state,
            actor=actor if getattr(actor, "pk", None) else None,
            role=role,
            department_id=getattr(actor, "department_id", None),
            payload=dict(payload),
            deadline_before=locked.deadline,
            deadline_after=locked.deadline,
            created_at=now,
        )
        store.update(locked, ["version"], version, entry)
    obj.version = locked.version
    return entry


def link_objects(source, target, kind: str, actor, *, role: str = "", now: datetime | None = None) -> Link:
    """Link two workflow objects and note the link in both histories."""
    now = now or timezone.now()
    with transaction.atomic():
        made = link(source, target, kind, actor, now=now)
        record(source, "link", actor, role=role, now=now, payload=_link_note(kind, "to", target))
        record(target, "link", actor, role=role, now=now, payload=_link_note(kind, "from", source))
    return made


def _link_note(kind: str, direction: str, other) -> dict[str, Any]:
    return {
        "link": kind,
        "direction": direction,
        "type": other._meta.label_lower,
        "id": other.pk,
        "ref": str(other),
    }
