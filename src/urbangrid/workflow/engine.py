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
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, Invalid, NotAllowed, WorkflowError, WrongState
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

    @property
    def writes(self) -> bool:
        """Whether a guard or effect writes rows of its own (then the transition runs in a
        database transaction; otherwise it is a single statement where the database allows)."""
        return any(getattr(fn, "writes", False) for fn in (*self.guards, *self.validate, *self.effects))


def writes(fn: Effect) -> Effect:
    """Mark a guard or effect that writes rows of its own (notifications, attachments, ...)."""
    fn.writes = True  # type: ignore[attr-defined]
    return fn


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
    #: True when the row was read under a lock: guards must then read what they check afresh
    fresh: bool = False
    #: SQL conditions the database checks when it writes the row (see `require`)
    requires: list[tuple[str, list[Any]]] = field(default_factory=list)

    def set_deadline(self, at: datetime, provisional: bool = False) -> None:
        """Effects that move the deadline (extension) call this."""
        self.deadline_override = (at, provisional)

    def require(self, sql: str, params: list[Any]) -> None:
        """A guard that checked something against a cache makes the write depend on it: `sql`
        (a boolean SQL expression) must hold when the row is written, or the operation is
        decided again on freshly read data (with `fresh` set)."""
        self.requires.append((sql, params))


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


# --- history entries and the row lock ---------------------------------------------------


_HISTORY_FIELDS: list[str] = []


def _history_entry(ctx: Context, from_state: str, deadline_before, stage_info: dict[str, Any]) -> History:
    obj = ctx.obj
    reason = ctx.data.get("reason") or ctx.data.get("note") or ""
    values = {
        "id": None,
        "content_type_id": ContentType.objects.get_for_model(type(obj)).pk,
        "object_id": obj.pk,
        "seq": obj.version,
        "action": ctx.transition.name,
        "from_state": from_state,
        "to_state": obj.state,
        "actor_id": ctx.actor.pk,
        "role": ctx.role,
        "department_id": getattr(ctx.actor, "department_id", None),
        "reason": str(reason),
        "payload": ctx.payload,
        "attachments": ctx.attachments,
        "stage": stage_info.get("stage", ""),
        "stage_limit": stage_info.get("stage_limit", ""),
        "time_used_minutes": stage_info.get("time_used_minutes"),
        "overdue": stage_info.get("overdue", False),
        "deadline_before": deadline_before,
        "deadline_after": obj.deadline,
        "created_at": ctx.now,
    }
    if not _HISTORY_FIELDS:
        _HISTORY_FIELDS.extend(f.attname for f in History._meta.concrete_fields)
    entry = History(*[values[name] for name in _HISTORY_FIELDS])  # positional: the fast way in
    History._meta.get_field("actor").set_cached_value(entry, ctx.actor)
    return entry


@dataclass
class _RowSpec:
    """Precompiled SQL to read one row with its related rows (per model, vendor and shape): the
    ORM's query compilation costs more than the query itself."""

    sql: str
    parts: list[tuple[type, list[str], list[list[Any]], Any]]  # (model, attnames, converters, fk field)


_ROW_SPECS: dict[tuple, _RowSpec] = {}


def _row_spec(
    model: type[models.Model], connection, related: tuple[str, ...], where: tuple[str, ...], lock: bool
) -> _RowSpec:
    key = (model, connection.vendor, related, where, lock)
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
    for i, name in enumerate(related):
        fk = model._meta.get_field(name)
        rel = fk.related_model
        alias = f"r{i}"
        joins.append(
            f"LEFT JOIN {qn(rel._meta.db_table)} {qn(alias)} ON {qn(alias)}.{qn(rel._meta.pk.column)} = "
            f"{qn('t')}.{qn(fk.column)}"
        )
        add(rel, alias, fk)
    pk = model._meta.pk
    conditions = [f"{qn('t')}.{qn(pk.column)} = {_placeholder(_cast(pk, connection))}"]
    for name in where:
        f = model._meta.get_field(name)
        conditions.append(f"{qn('t')}.{qn(f.column)} = {_placeholder(_cast(f, connection))}")
    sql = f"SELECT {', '.join(columns)} FROM {qn(model._meta.db_table)} {qn('t')} {' '.join(joins)} "
    sql += f"WHERE {' AND '.join(conditions)}"
    if lock and connection.features.has_select_for_update:
        sql += f" FOR UPDATE OF {qn('t')}" if connection.features.has_select_for_update_of else " FOR UPDATE"
    spec = _ROW_SPECS[key] = _RowSpec(sql=sql, parts=parts)
    return spec


def _read(
    model: type[models.Model],
    pk: Any,
    *,
    related: tuple[str, ...] = (),
    where: Mapping[str, Any] | None = None,
    lock: bool = False,
) -> Any:
    connection = connections[router.db_for_write(model)]
    where = where or {}
    spec = _row_spec(model, connection, related, tuple(where), lock)
    row = _execute(connection, spec.sql, [pk, *where.values()])
    if row is None:
        return None
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


def fetch(model: type[models.Model], pk: Any, **equal: Any) -> Any:
    """The row of `model` with key `pk` whose fields equal `equal`, or None: what a guard reads on
    every operation (precompiled SQL; prepared on PostgreSQL), e.g. an active department."""
    return _read(model, pk, where=equal)


def _lock(model: type[WorkflowObject], pk: int) -> WorkflowObject:
    """Read and lock the row (PostgreSQL: FOR UPDATE OF the row itself; SQLite: the write lock
    taken by BEGIN IMMEDIATE), with the related rows named in `model.workflow_related` that
    guards, effects and timers read."""
    obj = _read(model, pk, related=tuple(getattr(model, "workflow_related", ())), lock=True)
    if obj is None:
        raise model.DoesNotExist(f"{model.__name__} {pk} does not exist")
    return obj


# --- writing rows ---------------------------------------------------------------------------
#
# Transitions write through SQL built from each model's columns, not through the ORM, whose
# per-call query compilation costs more than the statements. Values go through each field's
# `pre_save` and `get_db_prep_save` as in Model.save(), except plain values of plain fields (a
# str for a CharField, an int for an IntegerField or a key), which the driver takes as they are.
# NULL, booleans, 0 and '' are written as literals, so that statements stay short and few.
# PostgreSQL: every value is cast to its column's type and the statements run with server-side
# parameters, so that the driver prepares them once per connection (parse and plan once).

_PASS_THROUGH: dict[type, tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.EmailField: (str,),
    models.SlugField: (str,),
    models.IntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.BigIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
    models.BooleanField: (bool,),
}
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


@dataclass(frozen=True)
class _Column:
    field: models.Field
    attname: str
    name: str  # quoted column name
    plain: tuple[type, ...]  # value types the driver takes as they are
    cast: str  # PostgreSQL type that values are cast to ("" elsewhere)


@dataclass
class _Table:
    """One model's table as the engine writes it (per model and database vendor)."""

    name: str  # quoted table name
    pk: str  # quoted primary-key column
    pk_cast: str
    columns: list[_Column]
    by_attname: dict[str, _Column]


_TABLES: dict[tuple[type, str], _Table] = {}


def _column(f: models.Field, connection) -> _Column:
    if isinstance(f, models.ForeignKey):
        plain: tuple[type, ...] = (int,) if type(f.target_field) in _INTEGER_KEYS else ()
    else:
        plain = _PASS_THROUGH.get(type(f), ())
    if type(f) is models.DateTimeField and connection.vendor == "postgresql" and not (f.auto_now or f.auto_now_add):
        plain = (datetime,)  # aware ones (checked when binding): psycopg sends them as they are
    return _Column(f, f.attname, connection.ops.quote_name(f.column), plain, _cast(f, connection))


def _cast(f: models.Field, connection) -> str:
    """The PostgreSQL type values of `f` are cast to ("" elsewhere): text, not varchar(n), for an
    explicit cast to varchar(n) truncates silently where storing into the column refuses a value
    that is too long."""
    if connection.vendor != "postgresql":
        return ""
    if isinstance(f, (models.CharField, models.TextField)):
        return "text"
    return f.rel_db_type(connection) if f.primary_key else f.db_type(connection)


def _table(model: type[models.Model], connection) -> _Table:
    key = (model, connection.vendor)
    table = _TABLES.get(key)
    if table is None:
        columns = [_column(f, connection) for f in model._meta.concrete_fields if not f.primary_key]
        table = _TABLES[key] = _Table(
            name=connection.ops.quote_name(model._meta.db_table),
            pk=connection.ops.quote_name(model._meta.pk.column),
            pk_cast=_cast(model._meta.pk, connection),
            columns=columns,
            by_attname={c.attname: c for c in columns},
        )
    return table


def _bind(obj: models.Model, col: _Column, connection, params: list[Any], add: bool = False) -> str:
    """The SQL for `obj`'s value of `col`: a literal or a placeholder whose value joins `params`."""
    value = obj.__dict__[col.attname]  # every field is loaded: checked before, set by __init__
    kind = type(value)
    if not col.plain or (value is not None and (kind not in col.plain or (kind is datetime and value.tzinfo is None))):
        value = col.field.get_db_prep_save(col.field.pre_save(obj, add), connection)
        kind = type(value)
    if value is None:
        sql = "NULL"
    elif kind is bool:
        sql = "TRUE" if value else "FALSE"
    elif (kind is int and value == 0) or (kind is str and value == ""):
        sql = "0" if kind is int else "''"
    else:
        params.append(value)
        sql = "%s"
    return f"{sql}::{col.cast}" if col.cast else sql


def _placeholder(cast: str) -> str:
    return f"%s::{cast}" if cast else "%s"


def _execute(connection, sql: str, params: list[Any]) -> tuple | None:
    """Run one statement and return its first row (SQLite: or (row count,) when it returns none).
    PostgreSQL: server-side parameters, so that psycopg prepares the statement after a few runs
    on a connection (settings: PG_PREPARE_THRESHOLD)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone() if cur.description else (cur.rowcount,)
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    raw = connection.connection
    cur = getattr(connection, "_urbangrid_cursor", None)
    if cur is None or cur.connection is not raw or cur.closed:
        import psycopg

        cur = connection._urbangrid_cursor = psycopg.Cursor(raw)
    with connection.wrap_database_errors:
        cur.execute(sql, params)
        return cur.fetchone()  # every statement sent here returns rows (RETURNING, SELECT)


def _mark_saved(obj: models.Model, pk: Any, connection) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def _history_values(entry: History, h: _Table, connection, params: list[Any], skip: str = "") -> list[str]:
    return [_bind(entry, col, connection, params, add=True) for col in h.columns if col.attname != skip]


def _write(
    obj: WorkflowObject, changed: list[str], entry: History, version: int, requires: Iterable[tuple[str, list]] = ()
) -> bool:
    """Save the changed columns of `obj` if its row still has `version` (and the conditions in
    `requires` hold), and insert the history entry; False (and nothing written) otherwise.
    PostgreSQL: one statement (a data-modifying CTE), so that outside a transaction it is one
    round trip and one commit."""
    connection = connections[router.db_for_write(type(obj))]
    t, h = _table(type(obj), connection), _table(History, connection)
    params: list[Any] = []
    sets = ", ".join(f"{t.by_attname[n].name} = {_bind(obj, t.by_attname[n], connection, params)}" for n in changed)
    version_col = t.by_attname["version"]
    update = (
        f"UPDATE {t.name} SET {sets} WHERE {t.pk} = {_placeholder(t.pk_cast)} "
        f"AND {version_col.name} = {_placeholder(version_col.cast)}"
    )
    params += [obj.pk, version]
    for condition, extra in requires:
        update += f" AND ({condition})"
        params += extra
    h_head = f"INSERT INTO {h.name} ({', '.join(col.name for col in h.columns)})"
    if connection.vendor == "postgresql":
        values = _history_values(entry, h, connection, params)
        row = _execute(
            connection,
            f"WITH u AS ({update} RETURNING 1) {h_head} SELECT {', '.join(values)} FROM u RETURNING {h.pk}",
            params,
        )
        if row is None:
            return False
    else:
        # no savepoint: nothing is written when the update finds no row, so there is nothing to undo
        with transaction.atomic(using=connection.alias, savepoint=False):
            if _execute(connection, update, params) != (1,):
                return False
            params = []
            values = _history_values(entry, h, connection, params)
            row = _execute(connection, f"{h_head} VALUES ({', '.join(values)}) RETURNING {h.pk}", params)
    _mark_saved(entry, row[0], connection)
    return True


#: A column filled while inserting: an SQL expression with its parameters, computed by the
#: database inside the statement, or a function whose value is taken inside the transaction.
Computed = tuple[str, list[Any]] | Callable[[], Any]


def _create(obj: WorkflowObject, entry: History, computed: Mapping[str, Computed]) -> None:
    """Insert a new workflow object and its first history entry (PostgreSQL: one statement; other
    databases: a short transaction). Columns named in `computed` are filled as it says."""
    connection = connections[router.db_for_write(type(obj))]
    with (
        transaction.atomic(using=connection.alias, savepoint=False)
        if (connection.vendor != "postgresql")
        else nullcontext()
    ):
        for name, how in computed.items():
            if callable(how):
                setattr(obj, name, how())
        sql_computed = {n: how for n, how in computed.items() if not callable(how)}
        t, h = _table(type(obj), connection), _table(History, connection)
        exprs: list[str] = []
        params: list[Any] = []
        for col in t.columns:
            if col.attname in sql_computed:
                sql, extra = sql_computed[col.attname]
                exprs.append(f"({sql})")
                params.extend(extra)
            else:
                exprs.append(_bind(obj, col, connection, params, add=True))
        returning = ", ".join([t.pk, *(t.by_attname[n].name for n in sql_computed)])
        insert = f"INSERT INTO {t.name} ({', '.join(col.name for col in t.columns)}) VALUES ({', '.join(exprs)})"
        h_head = f"INSERT INTO {h.name} ({', '.join(col.name for col in h.columns)})"
        if connection.vendor == "postgresql":
            values = iter(_history_values(entry, h, connection, params, skip="object_id"))
            select = ", ".join(f"o.{t.pk}" if col.attname == "object_id" else next(values) for col in h.columns)
            entry_pk, *row = _execute(
                connection,
                f"WITH o AS ({insert} RETURNING {returning}), "
                f"h AS ({h_head} SELECT {select} FROM o RETURNING {h.pk} AS entry_pk) "
                "SELECT h.entry_pk, o.* FROM h, o",
                params,
            )
        else:
            row = list(_execute(connection, f"{insert} RETURNING {returning}", params))
            entry.object_id = row[0]
            params = []
            values = _history_values(entry, h, connection, params)
            (entry_pk,) = _execute(connection, f"{h_head} VALUES ({', '.join(values)}) RETURNING {h.pk}", params)
    _mark_saved(entry, entry_pk, connection)
    _mark_saved(obj, row[0], connection)
    entry.object_id = obj.pk
    for name, value in zip(sql_computed, row[1:], strict=True):
        setattr(obj, name, value)


# --- the one function -------------------------------------------------------------------


class _Stale(Exception):
    """The row moved on between reading and writing: retry on the locked row."""


def _refuse_writes(t: Transition):
    """Outside a transaction, guards and effects of a transition not marked as writing may only read."""

    def wrapper(execute, sql, params, many, context):
        if not sql.lstrip()[:6].upper() == "SELECT":
            raise RuntimeError(
                f"“{t.name}”: a guard or effect wrote to the database; mark it with @engine.writes "
                "so that the transition runs in a transaction"
            )
        return execute(sql, params, many, context)

    return wrapper


def _step(
    obj: WorkflowObject, t: Transition, wf: Workflow, actor, version: int, data, now: datetime, fresh: bool = False
):
    """Check and apply `t` to `obj` in memory (effects marked @writes also write their rows);
    return the history entry, the names of the changed fields and the write-time conditions."""
    if obj.state not in t.sources:
        raise WrongState(
            _("“%(op)s” is not possible while the state is “%(state)s”.")
            % {"op": t.label, "state": wf.state_label(obj.state)}
        )
    role = _pick_role(actor, t)
    ctx = Context(
        obj=obj, actor=actor, role=role or "", data=dict(data or {}), transition=t, now=now, workflow=wf, fresh=fresh
    )
    _check(ctx)
    before = _snapshot(obj)
    assert before is not None  # transition() reads rows whole
    from_state, deadline_before = obj.state, obj.deadline
    for effect in t.effects:
        effect(ctx)
    if t.target:
        obj.state = str(t.target)  # the value, not the enum member: the driver takes it as it is
    stage_info = _apply_clock(ctx, t.clock_op)
    obj.version = version + 1
    entry = _history_entry(ctx, from_state, deadline_before, stage_info)
    now_loaded = obj.__dict__
    return entry, [n for n, v in before.items() if now_loaded[n] != v], ctx.requires


_ATTNAMES: dict[type, list[str]] = {}


def _attnames(model: type[models.Model]) -> list[str]:
    names = _ATTNAMES.get(model)
    if names is None:
        names = _ATTNAMES[model] = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    return names


def _snapshot(obj: WorkflowObject) -> dict[str, Any] | None:
    """The values of `obj`'s fields (not the key), or None when some are not loaded."""
    loaded = obj.__dict__
    try:
        return {name: loaded[name] for name in _attnames(type(obj))}
    except KeyError:
        return None


def _restore(obj: WorkflowObject, snapshot: dict[str, Any]) -> None:
    for name, value in snapshot.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)


def _optimistic(obj: WorkflowObject, t: Transition, wf: Workflow, actor, version: int, data, now: datetime) -> History:
    """Apply `t` to the caller's copy of the row and write it only if the row still has `version`
    (UPDATE … WHERE version = %s): every change of a workflow row bumps its version, so the copy
    is what the row is. A transition whose guards and effects only read is decided outside any
    transaction and written in a short one (on PostgreSQL a single statement); one with writing
    effects runs whole in a transaction."""
    connection = connections[router.db_for_write(type(obj))]
    if not t.writes:
        with connection.execute_wrapper(_refuse_writes(t)):
            entry, changed, requires = _step(obj, t, wf, actor, version, data, now)
        if not _write(obj, changed, entry, version, requires):
            raise _Stale
        return entry
    with transaction.atomic():
        entry, changed, requires = _step(obj, t, wf, actor, version, data, now)
        if not _write(obj, changed, entry, version, requires):
            raise _Stale  # rolls back what the effects wrote
    return entry


def transition(
    obj: WorkflowObject,
    action: str,
    actor,
    *,
    version: int,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> History:
    """Perform `action` on `obj` as `actor`, who saw the object at `version`. Raises NotAllowed,
    Conflict, WrongState or Invalid; on any error nothing is changed. On success `obj` is
    updated in place.

    When `obj` is at `version` the transition is decided on it and written only if the row is
    still at that version; otherwise, or when that fails, the row is read again under a lock and
    decided on what the database holds, so that errors (409 for a stale version) always
    describe the current row."""
    model = type(obj)
    wf: Workflow = model.get_workflow()
    t = wf.get(action)
    if t.is_creation:
        raise Invalid(_("“%(op)s” creates a new record; it cannot be applied to an existing one.") % {"op": t.label})
    now = now or timezone.now()
    snapshot = _snapshot(obj) if obj.pk is not None and obj.version == version else None
    if snapshot is not None:
        try:
            return _optimistic(obj, t, wf, actor, version, data, now)
        except (_Stale, WorkflowError):
            _restore(obj, snapshot)
        except BaseException:
            _restore(obj, snapshot)
            raise
    with transaction.atomic():
        locked = _lock(model, obj.pk)
        if locked.version != version:
            raise Conflict(
                _(
                    "This record was changed by someone else (version %(current)s, you had %(yours)s). "
                    "Reload it and try again."
                )
                % {"current": locked.version, "yours": version}
            )
        entry, changed, requires = _step(locked, t, wf, actor, version, data, now, fresh=True)
        if not _write(locked, changed, entry, version, requires):  # what a guard read changed since
            raise Conflict(_("The data this operation depends on changed just now. Reload and try again."))
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
    computed: Mapping[str, Computed] | None = None,
) -> History:
    """Insert a new workflow object through its creation transition (e.g. "report"). Columns in
    `computed` are filled inside the write (a sequence number, say). On PostgreSQL, a creation
    without writing effects outside a transaction is one statement."""
    model = type(obj)
    wf: Workflow = model.get_workflow()
    t = wf.get(action)
    if not t.is_creation or t.target is None:
        raise Invalid(_("“%(op)s” does not create a record.") % {"op": t.label})
    now = now or timezone.now()
    role = _pick_role(actor, t)
    ctx = Context(obj=obj, actor=actor, role=role or "", data=dict(data or {}), transition=t, now=now, workflow=wf)
    connection = connections[router.db_for_write(model)]

    def apply() -> History:
        for effect in t.effects:
            effect(ctx)
        obj.state = str(t.target)
        obj.version = 1
        if t.timer:
            _start_stage(obj, wf, t.timer, now)
        return _history_entry(ctx, "", None, {})

    if not t.writes:
        with connection.execute_wrapper(_refuse_writes(t)):
            _check(ctx)
            entry = apply()
        _create(obj, entry, computed or {})
        return entry
    _check(ctx)
    # The writes need no savepoint of their own: inside a caller's transaction a failure rolls
    # the caller back too, which is what a half-written record needs.
    with transaction.atomic(savepoint=False):
        entry = apply()
        _create(obj, entry, computed or {})
    return entry


def history_for(obj: WorkflowObject):
    return (
        History.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)
        .select_related("actor", "department")
        .order_by("seq")
    )
