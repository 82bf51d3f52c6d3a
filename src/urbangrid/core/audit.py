"""One helper to write the audit log; every action that changes base data calls it."""

from __future__ import annotations

from typing import Any

from .models import AuditLog, User


def audit(actor: User | None, action: str, obj: Any = None, *, summary: str = "", **data: Any) -> AuditLog:
    object_type = ""
    object_id = ""
    if obj is not None:
        meta = getattr(obj, "_meta", None)
        object_type = meta.label_lower if meta else type(obj).__name__
        object_id = str(getattr(obj, "pk", "") or "")
    elif "object_type" in data:
        object_type = str(data.pop("object_type"))
    return AuditLog.objects.create(
        actor=actor if (actor is not None and actor.pk) else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:300],
        data=data,
    )
