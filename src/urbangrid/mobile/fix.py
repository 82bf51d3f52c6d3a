"""What the phone's case page shows of the fix: the department's handling result (处置结果) and the
photos before and after, side by side, so that the collector judges the fix at the check (核查)
and the handler sees the problem before fixing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from urbangrid.workflow import kit
from urbangrid.workflow.engine import history_for
from urbangrid.workflow.models import AttachmentKind

#: photos of the problem: the report's and the on-site verification's
BEFORE_KINDS = (AttachmentKind.BEFORE, AttachmentKind.VERIFY)
#: photos of the fix: the handler's feedback (and a collector's quick self-fix)
AFTER_KINDS = (AttachmentKind.AFTER,)


@dataclass
class Fix:
    result: str = ""
    result_at: Any = None
    result_by: str = ""
    before: list[Any] = field(default_factory=list)
    after: list[Any] = field(default_factory=list)
    others: list[Any] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return bool(self.result or self.before or self.after)


def fix_of(case: Any) -> Fix:
    fix = Fix()
    last = history_for(case).filter(action="feedback").order_by("-seq").first()
    if last is not None:
        fix.result = str((last.payload or {}).get("result", ""))
        fix.result_at = last.created_at
        dept = getattr(last, "department", None)
        fix.result_by = str(dept) if dept is not None else (str(last.actor) if last.actor_id else "")
    for att in kit.attachments_of(case).order_by("pk"):
        if att.kind in BEFORE_KINDS:
            fix.before.append(att)
        elif att.kind in AFTER_KINDS:
            fix.after.append(att)
        else:
            fix.others.append(att)
    if last is not None:  # after a rework: the photos of the last feedback first
        fix.after.sort(key=lambda a: (a.history_seq != last.seq, -a.pk))
    return fix
