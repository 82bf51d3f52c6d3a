"""The workflow engine (流程引擎): declarative definitions and the one `transition` function.

A `Workflow` is data: states, transitions (who may fire each, required inputs, guards,
effects) and stage timers. `transition()` is the only way a workflow object changes state:
inside one database transaction it locks the row, checks the version (optimistic
locking), the actor's role and scope, the inputs and guards, applies the effects, moves
the stage timer on the working calendar and appends a `History` entry.

The engine knows no case kind: any model deriving from `WorkflowObject` opts in by
returning its definition from `get_workflow()`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, Invalid, NotAllowed, WrongState
from .models import History, WorkflowObject

Guard = Callable[["Context"], None]
Effect = Callable[["Context"], None]
#: A timer returns (amount, unit) for a stage, or None when the stage is not timed.
TimerFn = Callable[[WorkflowObject], "tuple[Decimal, str] | None"]


class Clock(enum.StrEnum):
    """What a transition does to the running stage timer."""

    KEEP = "keep"  # same stage, same deadline (urge, flags, requests)
    CLEAR = "clear"  # the stage ends and no new timed stage starts
    START = "start"  # the stage ends and the transition's timer starts
    PAUSE = "pause"  # freeze: remember what is left (suspension, return request)
    RESUME = "resume"  # restart with what was left


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    roles: tuple[str, ...]
    label: str
    needs: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()  # conditions on actor, scope and object (hide the operation)
    validate: tuple[Guard, ...] = ()  # checks of the input, run after the guards
    effects: tuple[Effect, ...] = ()
    timer: str | None = None
    clock: Clock | None = None

    @property
    def clock_op(self) -> Clock:
        if self.clock is not None:
            return self.clock
        if self.timer:
            return Clock.START
        return Clock.KEEP if self.target is None else Clock.CLEAR

    @property
    def is_creation(self) -> bool:
        return not self.sources


def T(
    name: str,
    sources: str | Iterable[str],
    target: str | None,
    *,
    roles: str | Iterable[str],
    label: str,
    needs: Iterable[str] = (),
    guards: Iterable[Guard] = (),
    validate: Iterable[Guard] = (),
    effects: Iterable[Effect] = (),
    timer: str | None = None,
    clock: Clock | None = None,
) -> Transition:
    """Shorthand used by definitions: `T("dispatch", REGISTERED, HANDLING, roles="dispatcher", ...)`."""
    return Transition(
        name=name,
        sources=(sources,) if isinstance(sources, str) else tuple(sources),
        target=target,
        roles=(roles,) if isinstance(roles, str) else tuple(roles),
        label=label,
        needs=tuple(needs),
        guards=tuple(guards),
        validate=tuple(validate),
        effects=tuple(effects),
        timer=timer,
        clock=clock,
    )


@dataclass
class Workflow:
    name: str
    states: Mapping[str, Any]  # code -> label
    transitions: list[Transition]
    timers: Mapping[str, TimerFn] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name: dict[str, Transition] = {}
        for t in self.transitions:
            if t.name in self.by_name:
                raise ValueError(f"{self.name}: duplicate transition {t.name}")
            for s in (*t.sources, *([t.target] if t.target else [])):
                if s not in self.states:
                    raise ValueError(f"{self.name}.{t.name}: unknown state {s}")
            if t.timer and t.timer not in self.timers:
                raise ValueError(f"{self.name}.{t.name}: unknown timer {t.timer}")
            self.by_name[t.name] = t

    def get(self, name: str) -> Transition:
        try:
            return self.by_name[name]
        except KeyError:
            raise Invalid(_("Unknown operation “%(op)s”.") % {"op": name}) from None

    def state_label(self, state: str) -> str:
        return str(self.states.get(state, state))

    def available(self, obj: WorkflowObject, actor) -> list[Transition]:
        """The operations `actor` may perform on `obj` now (role, state and guards pass;
        inputs are not checked)."""
        result = []
        for t in self.transitions:
            if t.is_creation or obj.state not in t.sources:
                continue
            role = _pick_role(actor, t, raise_=False)
            if role is None:
                continue
            ctx = Context(obj=obj, actor=actor, role=role, data={}, transition=t, now=timezone.now(), workflow=self)
            try:
                for guard in t.guards:
                    guard(ctx)
            except (NotAllowed, Invalid):
                continue
            result.append(t)
        return result


@dataclass
class Context:
    """What guards and effects see: the locked object, the actor and the validated input."""

    obj: WorkflowObject
    actor: Any
    role: str
    data: dict[str, Any]
    transition: Transition
    now: datetime
    workflow: Workflow
    payload: dict[str, Any] = field(default_factory=dict)  # extra data written to history
    attachments: list[Any] = field(default_factory=list)
    deadline_override: tuple[datetime, bool] | None = None

    def set_deadline(self, at: datetime, provisional: bool = False) -> None:
        """Effects that move the deadline (extension) call this."""
        self.deadline_override = (at, provisional)


def _pick_role(actor, t: Transition, *, raise_: bool = True) -> str | None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        if raise_:
            raise NotAllowed(_("Sign in first."))
        return None
    for role in t.roles:
        if actor.has_role(role):
            return role
    if raise_:
        raise NotAllowed(_("Your role does not allow “%(op)s”.") % {"op": t.label})
    return None


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, (list, tuple, dict)) and not value)
    )


def _check(ctx: Context) -> None:
    t = ctx.transition
    missing = {
        n: _("This field is required for “%(op)s”.") % {"op": t.label} for n in t.needs if _is_empty(ctx.data.get(n))
    }
    if missing:
        raise Invalid(
            _("Missing input for “%(op)s”: %(fields)s.") % {"op": t.label, "fields": ", ".join(missing)},
            fields=missing,
        )
    for guard in t.guards:
        guard(ctx)
    for check in t.validate:
        check(ctx)


# --- timers -----------------------------------------------------------------------------


def _calendar():
    from urbangrid.core.calendar import get_calendar

    return get_calendar()


def minutes_between(start: datetime, end: datetime, unit: str) -> int:
    if unit == "hours":
        return int((end - start).total_seconds() // 60)
    return _calendar().working_minutes_between(start, end)


def add_time(start: datetime, amount: Decimal | float, unit: str) -> tuple[datetime, bool]:
    deadline = _calendar().add(start, amount, unit)
    return deadline.at, deadline.provisional


def _end_stage(obj: WorkflowObject, now: datetime) -> dict[str, Any]:
    """Close the running stage and return what the history entry records about it."""
    if not obj.stage or obj.stage_started_at is None:
        return {}
    unit = obj.stage_limit_unit or "working_hours"
    info: dict[str, Any] = {
        "stage": obj.stage,
        "time_used_minutes": minutes_between(obj.stage_started_at, now, unit),
        "overdue": bool(obj.deadline and now > obj.deadline),
    }
    if obj.stage_limit_amount is not None:
        info["stage_limit"] = f"{obj.stage_limit_amount.normalize():f} {unit}"
    return info


def _start_stage(obj: WorkflowObject, wf: Workflow, name: str, now: datetime) -> None:
    spec = wf.timers[name](obj)
    obj.stage = name
    obj.stage_started_at = now
    obj.paused_remaining_minutes = None
    if spec is None:
        obj.stage_limit_amount = None
        obj.stage_limit_unit = ""
        _set_deadline(obj, now, None, False)
        return
    amount, unit = spec
    obj.stage_limit_amount = Decimal(str(amount))
    obj.stage_limit_unit = unit
    _set_deadline(obj, now, *add_time(now, obj.stage_limit_amount, unit))


WARN_FRACTION = 0.75


def _set_deadline(obj: WorkflowObject, start: datetime, at: datetime | None, provisional: bool) -> None:
    obj.deadline = at
    obj.deadline_provisional = provisional if at else False
    obj.warn_at = start + (at - start) * WARN_FRACTION if at and at > start else at


def _clear_stage(obj: WorkflowObject) -> None:
    obj.stage = ""
    obj.stage_started_at = None
    obj.stage_limit_amount = None
    obj.stage_limit_unit = ""
    _set_deadline(obj, timezone.now(), None, False)
    obj.paused_remaining_minutes = None


def _apply_clock(ctx: Context, op: Clock) -> dict[str, Any]:
    obj, now = ctx.obj, ctx.now
    info: dict[str, Any] = {}
    if op is Clock.KEEP:
        pass
    elif op is Clock.PAUSE:
        info = _end_stage(obj, now)
        if obj.deadline is not None:
            unit = obj.stage_limit_unit or "working_hours"
            obj.paused_remaining_minutes = max(0, minutes_between(now, obj.deadline, unit))
            if obj.deadline < now:
                obj.paused_remaining_minutes = -minutes_between(obj.deadline, now, unit)
        _set_deadline(obj, now, None, False)
        obj.stage_started_at = None
    elif op is Clock.RESUME:
        # The resumed stage is timed by what was left: the stage limit becomes the rest, so
        # that the deadline can always be recomputed from (stage_started_at, limit).
        obj.stage_started_at = now
        remaining = obj.paused_remaining_minutes
        if remaining is not None:
            unit = "hours" if obj.stage_limit_unit == "hours" else "working_hours"
            rest = Decimal(max(remaining, 0)) / 60
            obj.stage_limit_amount, obj.stage_limit_unit = rest.quantize(Decimal("0.01")), unit
            _set_deadline(obj, now, *add_time(now, rest, unit))
            if remaining < 0:  # already overdue when paused: it stays overdue
                _set_deadline(obj, now, now, False)
        obj.paused_remaining_minutes = None
    elif op is Clock.START:
        info = _end_stage(obj, now)
        _start_stage(obj, ctx.workflow, ctx.transition.timer or "", now)
    elif op is Clock.CLEAR:
        info = _end_stage(obj, now)
        _clear_stage(obj)
    if ctx.deadline_override is not None:
        _set_deadline(obj, now, *ctx.deadline_override)
    return info


# --- the one function -------------------------------------------------------------------


def _history_entry(ctx: Context, from_state: str, deadline_before, stage_info: dict[str, Any]) -> History:
    obj = ctx.obj
    reason = ctx.data.get("reason") or ctx.data.get("note") or ""
    entry = History(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        seq=obj.version,
        action=ctx.transition.name,
        from_state=from_state,
        to_state=obj.state,
        actor=ctx.actor,
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


@dataclass
class _RowSpec:
    """Precompiled SQL to read-and-lock one workflow row with its related rows (per model and
    database vendor): the ORM's query compilation costs more than the query itself."""

    sql: str
    parts: list[tuple[type, list[str], list[list[Any]], Any]]  # (model, attnames, converters, fk field)


_ROW_SPECS: dict[tuple[type, str], _RowSpec] = {}


def _row_spec(model: type[WorkflowObject], connection) -> _RowSpec:
    key = (model, connection.vendor)
    spec = _ROW_SPECS.get(key)
    if spec is not None:
        return spec
    qn = connection.ops.quote_name
    columns: list[str] = []
    joins: list[str] = []
    parts: list[tuple[type, list[str], list[list[Any]], Any]] = []

    def add(m: type, alias: str, fk: Any) -> None:
        fields = list(m._meta.concrete_fields)
        convs = []
        for f in fields:
            col = f.get_col(alias)
            convs.append([(c, col) for c in connection.ops.get_db_converters(col) + col.get_db_converters(connection)])
            columns.append(f"{qn(alias)}.{qn(f.column)}")
        parts.append((m, [f.attname for f in fields], convs, fk))

    add(model, "t", None)
    for i, name in enumerate(getattr(model, "workflow_related", ())):
        fk = model._meta.get_field(name)
        rel = fk.related_model
        alias = f"r{i}"
        joins.append(
            f"LEFT JOIN {qn(rel._meta.db_table)} {qn(alias)} ON {qn(alias)}.{qn(rel._meta.pk.column)} = "
            f"{qn('t')}.{qn(fk.column)}"
        )
        add(rel, alias, fk)
    sql = (
        f"SELECT {', '.join(columns)} FROM {qn(model._meta.db_table)} {qn('t')} {' '.join(joins)} "
        f"WHERE {qn('t')}.{qn(model._meta.pk.column)} = %s"
    )
    if connection.features.has_select_for_update:
        sql += f" FOR UPDATE OF {qn('t')}" if connection.features.has_select_for_update_of else " FOR UPDATE"
    spec = _RowSpec(sql=sql, parts=parts)
    _ROW_SPECS[key] = spec
    return spec


def _lock(model: type[WorkflowObject], pk: int) -> WorkflowObject:
    """Read and lock the row (PostgreSQL: FOR UPDATE OF the row itself; SQLite: the write lock
    taken by BEGIN IMMEDIATE), with the related rows named in `model.workflow_related` that
    guards, effects and timers read."""
    connection = connections[router.db_for_write(model)]
    spec = _row_spec(model, connection)
    with connection.cursor() as cur:
        cur.execute(spec.sql, [pk])
        row = cur.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} {pk} does not exist")
    pos = 0
    main = None
    for m, attnames, convs, fk in spec.parts:
        values = list(row[pos : pos + len(attnames)])
        pos += len(attnames)
        for i, conv in enumerate(convs):
            for c, col in conv:
                values[i] = c(values[i], col, connection)
        if main is None:
            main = m.from_db(connection.alias, attnames, values)
        elif values[0] is not None:
            fk.set_cached_value(main, m.from_db(connection.alias, attnames, values))
        else:
            fk.set_cached_value(main, None)
    return main


_INSERT_SQL: dict[tuple[type, str], tuple[str, str, list[Any]]] = {}


def _insert_parts(obj: models.Model, connection) -> tuple[str, str, list[Any], list[Any]]:
    """(INSERT head, VALUES tail, fields, params) for one row, compiled once per model; values go
    through each field's pre_save and get_db_prep_save as in Model.save()."""
    model = type(obj)
    key = (model, connection.vendor)
    cached = _INSERT_SQL.get(key)
    if cached is None:
        qn = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)})"
        cached = _INSERT_SQL[key] = (head, qn(model._meta.pk.column), fields)
    head, pk_column, fields = cached
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    return head, pk_column, fields, params


def _update_parts(obj: models.Model, changed: list[str], connection) -> tuple[str, list[Any]]:
    model = type(obj)
    qn = connection.ops.quote_name
    fields = [model._meta.get_field(n) for n in changed]
    sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s"
    return sql, [*params, obj.pk]


def _mark_saved(obj: models.Model, pk: Any, connection) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def _write(obj: WorkflowObject, changed: list[str], entry: History) -> None:
    """Save the changed columns of `obj` and insert its history entry. On PostgreSQL both go in
    one statement (a data-modifying CTE): one round trip instead of two."""
    connection = connections[router.db_for_write(type(obj))]
    head, pk_column, _fields, params = _insert_parts(entry, connection)
    values = f"VALUES ({', '.join(['%s'] * len(params))})"
    with connection.cursor() as cur:
        if changed:
            upd_sql, upd_params = _update_parts(obj, changed, connection)
            if connection.vendor == "postgresql":
                cur.execute(f"WITH u AS ({upd_sql}) {head} {values} RETURNING {pk_column}", [*upd_params, *params])
                _mark_saved(entry, cur.fetchone()[0], connection)
                return
            cur.execute(upd_sql, upd_params)
        cur.execute(f"{head} {values} RETURNING {pk_column}", params)
        _mark_saved(entry, cur.fetchone()[0], connection)


def _create(obj: WorkflowObject, entry: History) -> None:
    """Insert a new workflow object and its first history entry (PostgreSQL: one statement)."""
    connection = connections[router.db_for_write(type(obj))]
    head, pk_column, _fields, params = _insert_parts(obj, connection)
    values = f"VALUES ({', '.join(['%s'] * len(params))})"
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            cur.execute(f"{head} {values} RETURNING {pk_column}", params)
            _mark_saved(obj, cur.fetchone()[0], connection)
            entry.object_id = obj.pk
            h_head, h_pk, _f, h_params = _insert_parts(entry, connection)
            cur.execute(f"{h_head} VALUES ({', '.join(['%s'] * len(h_params))}) RETURNING {h_pk}", h_params)
            _mark_saved(entry, cur.fetchone()[0], connection)
            return
        entry.object_id = 0  # replaced by the new row's key inside the statement
        h_head, h_pk, h_fields, h_params = _insert_parts(entry, connection)
        select = ", ".join("o.id" if f.attname == "object_id" else "%s" for f in h_fields)
        h_params = [p for f, p in zip(h_fields, h_params, strict=True) if f.attname != "object_id"]
        cur.execute(
            f"WITH o AS ({head} {values} RETURNING {pk_column} AS id) "
            f"{h_head} SELECT {select} FROM o RETURNING {h_pk}, object_id",
            [*params, *h_params],
        )
        entry_pk, obj_pk = cur.fetchone()
        _mark_saved(obj, obj_pk, connection)
        _mark_saved(entry, entry_pk, connection)
        entry.object_id = obj_pk


def transition(
    obj: WorkflowObject,
    action: str,
    actor,
    *,
    version: int,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> History:
    """Perform `action` on `obj` as `actor`. Raises NotAllowed, Conflict, WrongState or Invalid;
    on any error nothing is changed. On success `obj` is refreshed in place."""
    model = type(obj)
    wf: Workflow = model.get_workflow()
    t = wf.get(action)
    if t.is_creation:
        raise Invalid(_("“%(op)s” creates a new record; it cannot be applied to an existing one.") % {"op": t.label})
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(model, obj.pk)
        before = {f.attname: getattr(locked, f.attname) for f in model._meta.concrete_fields}
        if locked.version != version:
            raise Conflict(
                _(
                    "This record was changed by someone else (version %(current)s, you had %(yours)s). "
                    "Reload it and try again."
                )
                % {"current": locked.version, "yours": version}
            )
        if locked.state not in t.sources:
            raise WrongState(
                _("“%(op)s” is not possible while the state is “%(state)s”.")
                % {"op": t.label, "state": wf.state_label(locked.state)}
            )
        role = _pick_role(actor, t)
        ctx = Context(
            obj=locked, actor=actor, role=role or "", data=dict(data or {}), transition=t, now=now, workflow=wf
        )
        _check(ctx)
        from_state, deadline_before = locked.state, locked.deadline
        for effect in t.effects:
            effect(ctx)
        if t.target:
            locked.state = t.target
        stage_info = _apply_clock(ctx, t.clock_op)
        locked.version += 1
        entry = _history_entry(ctx, from_state, deadline_before, stage_info)
        _write(locked, [n for n, v in before.items() if n != "id" and getattr(locked, n) != v], entry)
    for f in model._meta.concrete_fields:
        setattr(obj, f.attname, getattr(locked, f.attname))
    return entry


def create(
    obj: WorkflowObject,
    action: str,
    actor,
    *,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> History:
    """Insert a new workflow object through its creation transition (e.g. "report")."""
    model = type(obj)
    wf: Workflow = model.get_workflow()
    t = wf.get(action)
    if not t.is_creation or t.target is None:
        raise Invalid(_("“%(op)s” does not create a record.") % {"op": t.label})
    now = now or timezone.now()
    role = _pick_role(actor, t)
    ctx = Context(obj=obj, actor=actor, role=role or "", data=dict(data or {}), transition=t, now=now, workflow=wf)
    _check(ctx)
    # Checks are done; the writes need no savepoint of their own: inside a caller's
    # transaction a failure here rolls the caller back too, which is what a half-written
    # record needs.
    with transaction.atomic(savepoint=False):
        for effect in t.effects:
            effect(ctx)
        obj.state = t.target
        obj.version = 1
        if t.timer:
            _start_stage(obj, wf, t.timer, now)
        entry = _history_entry(ctx, "", None, {})
        _create(obj, entry)
    return entry


def history_for(obj: WorkflowObject):
    return (
        History.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)
        .select_related("actor", "department")
        .order_by("seq")
    )
