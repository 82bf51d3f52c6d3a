"""What a workflow is (流程定义): states, transitions, their inputs, holders and clocks.

A definition is data. Everything else is derived from it: the engine checks and applies
transitions, the web and phone forms and the API request schemas come from the declared
`Input`s, to-do lists and notifications from the `Hold`s of each state, lights and sweeps
from the stage timers and named clocks, the state diagram from the transitions.

This module imports nothing else of the engine.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .errors import Invalid, NotAllowed

Guard = Callable[["Context"], None]
Effect = Callable[["Context"], None]
#: A timer returns (amount, unit) for a stage, or None when the stage is not timed.
TimerFn = Callable[[Any], "tuple[Decimal, str] | None"]
#: Units of time limits: working hours/days on the official calendar, natural hours,
#: continuous calendar days (紧急工作日).
UNITS = ("working_hours", "working_days", "hours", "days")


class Clock(enum.StrEnum):
    """What a transition does to the running stage clock."""

    KEEP = "keep"  # same stage, same deadline (urge, flags, requests)
    CLEAR = "clear"  # the stage ends and no new timed stage starts
    START = "start"  # the stage ends and the transition's timer starts
    PAUSE = "pause"  # freeze: remember what is left (suspension, return request)
    RESUME = "resume"  # restart with what was left


# --- inputs -----------------------------------------------------------------------------


class InputType(enum.StrEnum):
    TEXT = "text"  # one line
    TEXTAREA = "textarea"  # several lines
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    CHOICE = "choice"
    DATE = "date"
    DATETIME = "datetime"
    PHOTOS = "photos"  # tokens of uploaded photos
    REF = "ref"  # a reference to another record, resolved by `lookup` within the actor's scope


Choices = Sequence[tuple[str, Any]] | Callable[[Any], Sequence[tuple[str, Any]]]


@dataclass(frozen=True)
class Input:
    """One input of a transition, declared once. Forms, API schemas and docs read this."""

    name: str
    label: Any
    type: InputType = InputType.TEXT
    required: bool = False
    help: Any = ""
    #: allowed values [(value, label)], or a function of the object returning them
    choices: Choices | None = None
    #: REF inputs: (ctx, raw value) -> the record, or None when absent or outside the actor's scope
    lookup: Callable[[Context, Any], Any] | None = None
    #: (ctx, cleaned value) -> cleaned value; raise Invalid (with a message) to refuse
    validators: tuple[Callable[[Context, Any], Any], ...] = ()
    #: a value, or a function of the object, shown as the form's initial value
    initial: Any = None
    min_value: Decimal | int | None = None
    max_value: Decimal | int | None = None
    max_length: int | None = 2000
    #: REF inputs: the message when the lookup finds nothing
    not_found: Any = None

    def choice_list(self, obj: Any = None) -> list[tuple[str, Any]]:
        if self.choices is None:
            return []
        return list(self.choices(obj) if callable(self.choices) else self.choices)

    def initial_for(self, obj: Any) -> Any:
        return self.initial(obj) if callable(self.initial) else self.initial

    def clean(self, ctx: Context, raw: Any) -> Any:
        """The value of this input from `raw` (not empty); raise ValueError with a message."""
        t = self.type
        if t in (InputType.TEXT, InputType.TEXTAREA):
            if not isinstance(raw, (str, int, float, Decimal)) or isinstance(raw, bool):
                raise ValueError(_("Enter text."))
            value: Any = str(raw).strip()
            if self.max_length and len(value) > self.max_length:
                raise ValueError(_("At most %(n)d characters.") % {"n": self.max_length})
        elif t is InputType.INT:
            value = _to_int(raw)
        elif t is InputType.DECIMAL:
            value = _to_decimal(raw)
        elif t is InputType.BOOL:
            value = _to_bool(raw)
        elif t is InputType.DATE:
            value = raw if isinstance(raw, date) and not isinstance(raw, datetime) else _parse(parse_date, raw)
        elif t is InputType.DATETIME:
            value = raw if isinstance(raw, datetime) else _parse(parse_datetime, raw)
            if value.tzinfo is None:
                raise ValueError(_("Give the time with its offset, e.g. 2026-11-28T09:30+08:00."))
        elif t is InputType.PHOTOS:
            items = raw if isinstance(raw, (list, tuple)) else [raw]
            if not all(isinstance(i, str) and i.strip() for i in items):
                raise ValueError(_("List the tokens of uploaded photos."))
            value = [i.strip() for i in items]
        elif t is InputType.CHOICE:
            value = str(raw).strip()
        else:  # REF
            value = raw
        if self.min_value is not None and value < self.min_value:
            raise ValueError(_("At least %(n)s.") % {"n": self.min_value})
        if self.max_value is not None and value > self.max_value:
            raise ValueError(_("At most %(n)s.") % {"n": self.max_value})
        if self.choices is not None and t is not InputType.REF:  # a REF's lookup decides (and says why)
            allowed = {str(v) for v, _label in self.choice_list(ctx.obj)}
            if str(value) not in allowed:
                raise ValueError(_("Choose one of: %(v)s.") % {"v": ", ".join(sorted(allowed))})
        if self.lookup is not None:
            found = self.lookup(ctx, value)
            if found is None:
                raise ValueError(str(self.not_found or _("Not found, or outside your area of responsibility.")))
            value = found
        for validator in self.validators:
            value = validator(ctx, value)
        return value


def _to_int(raw: Any) -> int:
    text = str(raw).strip()
    if isinstance(raw, bool) or not (text.isascii() and text.removeprefix("-").isdigit()) or len(text) > 18:
        raise ValueError(_("Enter a whole number."))
    return int(text)


def _to_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError(_("Enter a number."))
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(_("Enter a number.")) from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 9:
        raise ValueError(_("Enter a number."))
    return value


def _to_bool(raw: Any) -> bool:
    if raw in (True, False):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(_("Answer true or false."))


def _parse(parser: Callable[[str], Any], raw: Any) -> Any:
    try:
        value = parser(str(raw).strip())
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise ValueError(_("Not a valid date or time."))
    return value


def I(name: str, label: Any, type: InputType | str = InputType.TEXT, **kwargs: Any) -> Input:  # noqa: E743
    """Shorthand: `I("reason", _("Reason"), "textarea", required=True)`."""
    return Input(name=name, label=label, type=InputType(type), **kwargs)


# --- who holds an object ------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """Who holds an object in a state (待办): a role, narrowed by the object.

    `where(user)` selects the objects of that state this user holds (a Q on the model;
    scope is applied separately); `users(obj)` lists the people holding `obj` (notifications).
    Without them the holders are the role's users whose scope covers the object."""

    role: str
    where: Callable[[Any], Q] | None = None
    users: Callable[[Any], Iterable[Any]] | None = None


# --- transitions ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockOp:
    """An operation on a named clock (statutory clocks: 法定期限)."""

    op: str  # "start", "pause", "resume", "stop"
    name: str
    #: start: the limit as (amount, unit), or a function of ctx returning it
    limit: tuple[Any, str] | Callable[[Context], tuple[Any, str]] | None = None
    #: start: the input (a DATE or DATETIME) the clock counts from, e.g. "served_on"; default: now
    from_input: str | None = None


def start_clock(
    name: str, limit: tuple[Any, str] | Callable[[Context], tuple[Any, str]], from_input: str | None = None
) -> ClockOp:
    return ClockOp("start", name, limit, from_input)


def pause_clock(name: str) -> ClockOp:
    return ClockOp("pause", name)


def resume_clock(name: str) -> ClockOp:
    return ClockOp("resume", name)


def stop_clock(name: str) -> ClockOp:
    return ClockOp("stop", name)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    roles: tuple[str, ...]
    label: Any
    inputs: tuple[Input, ...] = ()
    guards: tuple[Guard, ...] = ()  # conditions on actor, scope and object (hide the operation)
    effects: tuple[Effect, ...] = ()
    timer: str | None = None
    clock: Clock | None = None
    clocks: tuple[ClockOp, ...] = ()
    help: Any = ""
    #: performed by the system (automatic steps), never offered to people
    system: bool = False
    #: the pending request this transition decides ("extension"), for approver checks and to-do
    decides: str = ""

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

    def input(self, name: str) -> Input | None:
        for i in self.inputs:
            if i.name == name:
                return i
        return None


def T(
    name: str,
    sources: str | Iterable[str],
    target: str | None,
    *,
    roles: str | Iterable[str],
    label: Any,
    inputs: Iterable[Input] = (),
    guards: Iterable[Guard] = (),
    effects: Iterable[Effect] = (),
    timer: str | None = None,
    clock: Clock | None = None,
    clocks: Iterable[ClockOp] = (),
    help: Any = "",
    system: bool = False,
    decides: str = "",
) -> Transition:
    """Shorthand used by definitions: `T("dispatch", REGISTERED, HANDLING, roles="dispatcher", ...)`."""
    return Transition(
        name=name,
        sources=(sources,) if isinstance(sources, str) else tuple(sources),
        target=target,
        roles=(roles,) if isinstance(roles, str) else tuple(roles),
        label=label,
        inputs=tuple(inputs),
        guards=tuple(guards),
        effects=tuple(effects),
        timer=timer,
        clock=clock,
        clocks=tuple(clocks),
        help=help,
        system=system,
        decides=decides,
    )


@dataclass(frozen=True)
class Approval:
    """A request kind that needs approval (审批): who approves it, and when a higher approver
    must (by amount or length). The engine records the approver role on the object when the
    request is made; to-do lists and the approve/refuse role check read it."""

    kind: str
    label: Any
    approver: str
    higher: str = ""
    #: (ctx of the request) -> True when the higher approver must decide
    needs_higher: Callable[[Context], bool] | None = None


@dataclass
class Workflow:
    name: str
    states: Mapping[str, Any]  # code -> label
    transitions: list[Transition]
    #: final states: the object is finished there (no holder, no clock, children done)
    final: Iterable[str] = ()
    timers: Mapping[str, TimerFn] = field(default_factory=dict)
    holders: Mapping[str, Sequence[Hold]] = field(default_factory=dict)
    approvals: Sequence[Approval] = ()
    #: state -> role told when the stage clock turns red there (escalation, 超期升级)
    escalate: Mapping[str, str] = field(default_factory=dict)
    label: Any = ""

    def __post_init__(self) -> None:
        self.final = frozenset(self.final)
        self.by_name: dict[str, Transition] = {}
        self.approval_by_kind = {a.kind: a for a in self.approvals}
        for s in self.final:
            if s not in self.states:
                raise ValueError(f"{self.name}: unknown final state {s}")
        for t in self.transitions:
            if t.name in self.by_name:
                raise ValueError(f"{self.name}: duplicate transition {t.name}")
            for s in (*t.sources, *([t.target] if t.target else [])):
                if s not in self.states:
                    raise ValueError(f"{self.name}.{t.name}: unknown state {s}")
            if t.timer and t.timer not in self.timers:
                raise ValueError(f"{self.name}.{t.name}: unknown timer {t.timer}")
            if t.decides and t.decides not in self.approval_by_kind:
                raise ValueError(f"{self.name}.{t.name}: unknown approval {t.decides}")
            names = [i.name for i in t.inputs]
            if len(set(names)) != len(names) or "version" in names:
                raise ValueError(f"{self.name}.{t.name}: duplicate or reserved input name")
            self.by_name[t.name] = t
        for s in self.holders:
            if s not in self.states:
                raise ValueError(f"{self.name}: holders for unknown state {s}")

    @property
    def open_states(self) -> list[str]:
        return [s for s in self.states if s not in self.final]

    def get(self, name: str) -> Transition:
        try:
            return self.by_name[name]
        except KeyError:
            raise Invalid(_("Unknown operation “%(op)s”.") % {"op": name}) from None

    def state_label(self, state: str) -> str:
        return str(self.states.get(state, state))

    def operations(self) -> list[Transition]:
        """The operations people may perform (not creations, not system steps)."""
        return [t for t in self.transitions if not t.is_creation and not t.system]


@dataclass
class Context:
    """What guards, inputs and effects see: the object, the actor and the cleaned input."""

    obj: Any
    actor: Any
    role: str
    data: dict[str, Any]
    transition: Transition
    now: datetime
    workflow: Workflow
    payload: dict[str, Any] = field(default_factory=dict)  # extra data written to history
    attachments: list[Any] = field(default_factory=list)
    deadline_override: tuple[datetime, bool] | None = None
    #: a stage limit set by a person instead of the timer's (amount, unit), counted from the stage start
    limit_override: tuple[Decimal, str] | None = None
    #: work to do after the row is written, in the same transaction (links, children, clocks)
    after_write: list[Callable[[Any], None]] = field(default_factory=list)

    def set_deadline(self, at: datetime, provisional: bool = False) -> None:
        """Effects that move the stage deadline call this (prefer `extend` and `override_limit`:
        a deadline set here is not reproduced when deadlines are recomputed)."""
        self.deadline_override = (at, provisional)

    def override_limit(self, amount: Decimal, unit: str) -> None:
        """The stage that this step starts gets `amount` `unit` instead of its timer's limit."""
        self.limit_override = (Decimal(str(amount)), unit)

    def extend(self, amount: Decimal, unit: str, add_time: Callable[..., tuple[datetime, bool]]) -> datetime:
        """Move the running stage's deadline by `amount` `unit` (an approved extension, 延期),
        counted from the deadline; recorded in the history so that a recomputation (after a
        calendar change) applies it again. Returns the new deadline."""
        at, provisional = add_time(self.obj.deadline or self.now, Decimal(str(amount)), unit)
        self.deadline_override = (at, provisional)
        self.payload["extension"] = {"amount": str(amount), "unit": unit}
        return at


class SystemActor:
    """The engine's own actor for automatic steps (自动派遣 …): history shows them as done by the
    system (no person, role "system")."""

    pk = None
    department_id = None
    is_authenticated = True
    is_active = True

    def has_role(self, *roles: str) -> bool:
        return SYSTEM_ROLE in roles

    def __str__(self) -> str:
        return _("system")


SYSTEM_ROLE = "system"
SYSTEM = SystemActor()


def pick_role(actor: Any, t: Transition, *, raise_: bool = True) -> str | None:
    """The first of the transition's roles the actor has (NotAllowed, or None, when none)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        if raise_:
            raise NotAllowed(_("Sign in first."))
        return None
    if t.system != (actor is SYSTEM):
        if raise_:
            raise NotAllowed(_("“%(op)s” is not yours to perform.") % {"op": t.label})
        return None
    if t.system:
        return SYSTEM_ROLE
    for role in t.roles:
        if actor.has_role(role):
            return role
    if raise_:
        raise NotAllowed(_("Your role does not allow “%(op)s”.") % {"op": t.label})
    return None


def is_empty(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, (list, tuple, dict)) and not value)
    )


def clean_inputs(ctx: Context) -> None:
    """Replace ctx.data by the cleaned declared inputs; Invalid with per-field messages."""
    t = ctx.transition
    raw, cleaned, errors = ctx.data, {}, {}
    for inp in t.inputs:
        value = raw.get(inp.name)
        if is_empty(value):
            if inp.required:
                errors[inp.name] = _("This field is required for “%(op)s”.") % {"op": t.label}
            continue
        try:
            cleaned[inp.name] = inp.clean(ctx, value)
        except ValueError as exc:
            errors[inp.name] = str(exc)
        except Invalid as exc:
            errors[inp.name] = exc.fields.get(inp.name) or exc.message
    if errors:
        missing = [n for n, m in errors.items() if is_empty(raw.get(n))]
        if missing and len(missing) == len(errors):
            message = _("Missing input for “%(op)s”: %(fields)s.") % {"op": t.label, "fields": ", ".join(missing)}
        else:
            detail = "; ".join(f"{n}: {str(m).rstrip('.')}" for n, m in errors.items())
            message = _("Check the input of “%(op)s”: %(fields)s.") % {"op": t.label, "fields": detail}
        raise Invalid(message, fields=errors)
    ctx.data = cleaned
