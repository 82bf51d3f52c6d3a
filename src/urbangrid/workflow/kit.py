"""Guards and effects any process reuses (工具箱): scope, photos and documents, requests and
approvals, child flows and links. Each is tested on its own in tests/workflow."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext as _

from .definition import Context, Effect, Guard
from .errors import Invalid, NotAllowed
from .models import Attachment, Link
from .registry import registration, visible_objects, workflow_for

# --- scope ------------------------------------------------------------------------------------


def in_scope(where: Callable[[Any], Q], message: Any = None) -> Guard:
    """The actor acts only on objects inside their scope: `where(user)` is a Q on the model."""

    def guard(ctx: Context) -> None:
        q = where(ctx.actor)
        if q and not type(ctx.obj)._default_manager.filter(q, pk=ctx.obj.pk).exists():
            raise NotAllowed(message or _("This record is outside your area of responsibility."))

    guard.__name__ = "in_scope"
    return guard


# --- attachments ------------------------------------------------------------------------------


def claim(obj, actor, tokens: Iterable[Any], kind: str, seq: int) -> list[dict[str, Any]]:
    """Attach files the actor uploaded (by token) to `obj` for its history entry `seq`."""
    tokens = [str(t) for t in tokens]
    if not tokens:
        return []
    found = list(
        Attachment.objects.select_for_update().filter(token__in=tokens, uploaded_by=actor, object_id__isnull=True)
    )
    missing = set(tokens) - {a.token for a in found}
    if missing:
        raise Invalid(
            _("Unknown or already used photo: %(ids)s. Upload the photo first.") % {"ids": ", ".join(sorted(missing))},
            fields={"photos": _("Unknown photo.")},
        )
    ct = ContentType.objects.get_for_model(type(obj))
    Attachment.objects.filter(pk__in=[a.pk for a in found]).update(
        content_type=ct, object_id=obj.pk, kind=kind, history_seq=seq
    )
    return [{"id": a.token, "kind": kind, "type": a.mime_type} for a in found]


def photos(kind: str, name: str = "photos") -> Effect:
    """Claim the uploaded files named in input `name` for this step."""

    def effect(ctx: Context) -> None:
        ctx.attachments = claim(ctx.obj, ctx.actor, ctx.data.get(name) or [], kind, ctx.obj.version + 1)

    effect.__name__ = f"photos_{kind}"
    return effect


def attachments_of(obj):
    return Attachment.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)


def may_read(attachment: Attachment, user) -> bool:
    """A file is readable by whoever uploaded it and by whoever may see the object it belongs to."""
    if not getattr(user, "is_authenticated", False):
        return False
    if attachment.uploaded_by_id == user.pk:
        return True
    if attachment.object_id is None or attachment.content_type_id is None:
        return False
    model = ContentType.objects.get_for_id(attachment.content_type_id).model_class()
    try:
        return visible_objects(model, user).filter(pk=attachment.object_id).exists()
    except LookupError:
        return False


# --- requests and approvals (申请 → 审批) -----------------------------------------------------


def no_pending(ctx: Context) -> None:
    """Only one request may be pending at a time."""
    if ctx.obj.pending_request:
        approval = ctx.workflow.approval_by_kind.get(ctx.obj.pending_request)
        raise Invalid(
            _("There is already a pending request (%(req)s); wait for its decision.")
            % {"req": approval.label if approval else ctx.obj.pending_request}
        )


def request(kind: str, keep: Iterable[str] = ("amount", "unit", "reason")) -> Effect:
    """Make a request of `kind`: the object remembers it, its data and who must decide it (the
    approver, or the higher approver when the definition says the amount or length needs one)."""
    keep = tuple(keep)

    def effect(ctx: Context) -> None:
        approval = ctx.workflow.approval_by_kind[kind]
        higher = bool(approval.higher and approval.needs_higher and approval.needs_higher(ctx))
        data = {k: str(v) for k, v in ctx.data.items() if k in keep}
        ctx.obj.pending_request = kind
        ctx.obj.pending_data = data
        ctx.obj.pending_approver = approval.higher if higher else approval.approver
        ctx.payload.update(data)
        ctx.payload["approver"] = ctx.obj.pending_approver

    effect.__name__ = f"request_{kind}"
    return effect


def pending(kind: str) -> Guard:
    """A decision needs a pending request of its kind; only its approver (or the higher approver)
    may decide it."""

    def guard(ctx: Context) -> None:
        approval = ctx.workflow.approval_by_kind[kind]
        if ctx.obj.pending_request != kind:
            raise Invalid(_("There is no pending %(req)s to decide.") % {"req": approval.label})
        needed = ctx.obj.pending_approver or approval.approver
        allowed = {needed} | ({approval.higher} if approval.higher else set())
        role = next((r for r in (needed, approval.higher) if r and ctx.actor.has_role(r)), None)
        if role is None or role not in allowed:
            raise NotAllowed(_("This request must be decided by a higher approver."))
        ctx.role = role

    guard.__name__ = f"pending_{kind}"
    return guard


def clear_request(ctx: Context) -> None:
    """The request is decided: the object no longer waits for it."""
    ctx.payload["request"] = ctx.obj.pending_request
    ctx.obj.pending_request = ""
    ctx.obj.pending_data = {}
    ctx.obj.pending_approver = ""


# --- child flows and links --------------------------------------------------------------------


def links(obj, kind: str | None = None, direction: str = "out"):
    """Links from (`out`) or to (`in`) `obj`."""
    ct = ContentType.objects.get_for_model(type(obj))
    if direction == "out":
        qs = Link.objects.filter(source_type=ct, source_id=obj.pk)
    else:
        qs = Link.objects.filter(target_type=ct, target_id=obj.pk)
    return qs.filter(kind=kind) if kind else qs


def children(obj, model: type | None = None) -> list[Any]:
    """The child objects `obj` spawned (optionally only those of `model`)."""
    found: list[Any] = []
    rows = links(obj, Link.Kind.CHILD).values_list("target_type_id", "target_id")
    by_type: dict[int, list[int]] = {}
    for ct_id, pk in rows:
        by_type.setdefault(ct_id, []).append(pk)
    for ct_id, pks in by_type.items():
        child_model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None or child_model is model:
            found += list(child_model._default_manager.filter(pk__in=pks).order_by("pk"))
    return found


def children_finished(message: Any = None) -> Guard:
    """The object may go on only when every child it spawned is in a final state of its workflow
    (an inspection cannot close while one of its hazards is open)."""

    def guard(ctx: Context) -> None:
        open_children = [c for c in children(ctx.obj) if c.state not in workflow_for(c).final]
        if open_children:
            raise Invalid(
                message
                or _("%(n)d linked record(s) are still open: %(refs)s.")
                % {"n": len(open_children), "refs": ", ".join(str(c) for c in open_children[:5])}
            )

    guard.__name__ = "children_finished"
    return guard


def spawn(build: Callable[[Context], Iterable[tuple[Any, str, dict[str, Any]]]]) -> Effect:
    """Create child objects (of any registered workflow) after the parent's step is written, in
    the same transaction: `build(ctx)` yields (new object, its creation action, its input)."""

    def effect(ctx: Context) -> None:
        from .engine import create, link_objects

        def after(entry) -> None:
            for child, action, data in build(ctx):
                registration(type(child))  # only registered workflow objects may be children
                create(child, action, ctx.actor, data=data, now=ctx.now)
                link_objects(ctx.obj, child, Link.Kind.CHILD, ctx.actor, role=ctx.role, now=ctx.now)

        ctx.after_write.append(after)

    effect.__name__ = "spawn"
    return effect
