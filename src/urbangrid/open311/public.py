"""What the public may see of a case: Open311 status, status notes, public history and the
GeoReport `request` records. Reporter personal data and staff names never leave here."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Case as DbCase
from django.db.models import OuterRef, Subquery, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases.models import Case, Dispute, State
from urbangrid.catalog.models import Category
from urbangrid.core.cache import ProcessCache
from urbangrid.core.models import Department
from urbangrid.workflow.models import History

CLOSED_STATES = frozenset({State.CLOSED, State.NOT_ACCEPTED, State.REJECTED, State.VOIDED, State.MERGED})
REQUEST_FIELDS = (
    "service_request_id status status_notes service_name service_code description agency_responsible service_notice "
    "requested_datetime updated_datetime expected_datetime address address_id zipcode lat long media_url"
).split()
_SEP = r"[ \-.\u2010-\u2015\u2212]?"  # one optional separator between digits (after NFKC)
_PERSONAL = [
    # e-mail (after NFKC a full-width "＠" is "@")
    (re.compile(r"[A-Za-z0-9._%+-]+ ?@ ?[A-Za-z0-9-]+(?: ?\. ?[A-Za-z0-9-]+)+", re.ASCII), "***@***"),
    # resident identity card (region, birth date, sequence, check), also written in groups 6-8-4
    (
        re.compile(
            rf"(?<![0-9])[1-9][0-9]{{5}}{_SEP}(?:19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
            rf"{_SEP}[0-9]{{3}}[0-9Xx](?![0-9A-Za-z])",
            re.ASCII,
        ),
        "******************",
    ),
    # mobile, with or without +86 / 0086, in any grouping: 138 1234 5678, 138.1234.5678, 138-1234-5678
    (
        re.compile(rf"(?<![0-9])(?:(?:\+|00)?86{_SEP})?1{_SEP}[3-9](?:{_SEP}[0-9]){{9}}(?![0-9])", re.ASCII),
        "***********",
    ),
    # landline with area code: 0573-88881234, (0573) 8888 1234, 010 8888 1234, +86 573 88881234;
    # an extension (转 123, ext. 123, -123) goes with it
    (
        re.compile(
            rf"(?<![0-9])(?:(?:\+|00)86{_SEP}[1-9][0-9]{{1,2}}|\(0[1-9][0-9]{{1,2}}\)|0[1-9][0-9]{{1,2}}){_SEP} ?"
            rf"[2-9][0-9]{{2,3}}{_SEP}[0-9]{{4}}(?:{_SEP} ?(?:转|ext\.?|x|#|-) ?[0-9]{{1,6}})?(?![0-9])",
            re.ASCII | re.IGNORECASE,
        ),
        "************",
    ),
]


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` in NFKC (full-width digits and signs become ASCII), character by character,
    with the index in `text` of every character of the result."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            out.append(ch)
            origin.append(i)
            continue
        norm = unicodedata.normalize("NFKC", ch)
        out.append(norm)
        origin.extend([i] * len(norm))
    return "".join(out), origin


def mask_personal(text: str) -> str:
    """`text` with e-mail addresses, mobile and landline numbers and identity numbers masked,
    also when written with full-width characters (１３８…, ＠) or in groups (138.1234.5678).
    Matching runs on the NFKC form; the rest of the text is returned unchanged."""
    norm, origin = _normalised(text)
    spans: list[tuple[int, int, str]] = []
    for pattern, mask in _PERSONAL:
        for m in pattern.finditer(norm):
            start, end = origin[m.start()], origin[m.end() - 1] + 1
            if not any(start < e and s < end for s, e, _m in spans):
                spans.append((start, end, mask))
    for start, end, mask in sorted(spans, reverse=True):
        text = text[:start] + mask + text[end:]
    return text


def w3c(dt: datetime | None) -> str | None:
    """YYYY-MM-DDThh:mm:ss±hh:mm in the installation's time zone."""
    return timezone.localtime(dt).isoformat(timespec="seconds") if dt else None


def public_text(text: str) -> str:
    """A reporter's description as plain text, with phone numbers, e-mail addresses and
    identity numbers masked."""
    if "<" in text:
        text = strip_tags(text)
    return mask_personal(text)


def _build_services() -> dict[str, Any]:
    from .models import Service

    qs = Category.objects.filter(kind="event", parent__isnull=False, is_public=True, active=True)
    categories = {c.pk: c for c in qs.select_related("parent").order_by("code")}
    configs = Service.objects.filter(category_id__in=categories).prefetch_related("attributes__values")
    return {"categories": categories, "configs": {s.category_id: s for s in configs}}


#: The services, cached per process: changes made in this process clear it at once (signals.py),
#: other processes see them within 10 seconds.
_services = ProcessCache("open311_services", _build_services, ttl=10.0)


def public_categories() -> dict[int, Category]:
    """Open311 services: active minor event classes open to public reports, by id."""
    return _services()["categories"]


def service_configs() -> dict[int, Any]:
    """Open311 settings (with attributes and their values) by category id; most have none."""
    return _services()["configs"]


def clear_service_cache() -> None:
    _services.clear()


def published_sources() -> list[str]:
    """Case sources published through Open311 and the portal (`OPEN311_PUBLIC_SOURCES`;
    "*" publishes every source)."""
    from .conf import conf

    return list(conf("OPEN311_PUBLIC_SOURCES"))


def published_cases():
    """The cases the public may see: in a public service and from a published source (by
    default what the public reported itself: portal and Open311 partners, not collector
    patrols, hotline calls, leader assignments, video or sensor alarms)."""
    qs = Case.objects.filter(category_id__in=list(public_categories()))
    sources = published_sources()
    if "*" not in sources:
        qs = qs.filter(source__in=sources)
    return qs


def category_name(cat: Category) -> str:
    from django.utils.translation import get_language

    return cat.name_en if cat.name_en and (get_language() or "").startswith("en") else cat.name


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def status_note(
    state: str,
    *,
    agency: str = "",
    verified: bool | None = None,
    self_handled: bool = False,
    rework_count: int = 0,
    dispute: str | None = None,
    merged_into: str | None = None,
) -> str:
    """One sentence saying where the case stands; `dispute` is the outcome of its latest
    disputed fix ("" pending, "confirmed", "rejected") or None."""
    agency = agency or _("the responsible department")
    if state == State.REPORTED:
        return _("Verified on site; waiting to be registered.") if verified else _("Received; being verified.")
    if state == State.VERIFYING:
        return _("A grid collector is verifying the report on site.")
    if state in (State.ACCEPTED, State.REGISTERED):
        return _("Registered; being assigned to the responsible department.")
    if state == State.HANDLING:
        if rework_count and dispute == Dispute.Outcome.CONFIRMED:
            return _(
                "The reporter said it was not fixed and a re-check confirmed it; %(agency)s is doing the work again."
            ) % {"agency": agency}
        if rework_count:
            return _("An on-site check found it not fixed; %(agency)s is doing the work again.") % {"agency": agency}
        return _("%(agency)s is handling it.") % {"agency": agency}
    if state == State.RETURN_REQUESTED:
        return _("Being reassigned to another department.")
    if state == State.SUSPENDED:
        return _("Handling is suspended for now.")
    if state in (State.FEEDBACK, State.CHECKING, State.PENDING_CLOSE):
        return _("%(agency)s reports it fixed; the fix is being checked on site.") % {"agency": agency}
    if state == State.RECHECKING:
        return _("The reporter says it is not fixed; a grid collector is re-checking on site.")
    if state == State.SELF_HANDLED:
        return _("Fixed on the spot by a grid collector; the fix is being confirmed.")
    if state == State.NOT_ACCEPTED:
        return _("Not accepted: not an urban-management problem, or not found on site.")
    if state == State.CLOSED:
        if dispute == Dispute.Outcome.REJECTED:
            return _("The reporter said it was not fixed; a re-check on site found it fixed. Closed again.")
        if self_handled:
            return _("Fixed on the spot by a grid collector; closed.")
        return _("Fixed by %(agency)s and confirmed on site; closed.") % {"agency": agency}
    if state == State.REJECTED:
        return _("Not registered: not an urban-management problem, or not found on site.")
    if state == State.MERGED:
        return _("Duplicate of request %(n)s; followed there.") % {"n": merged_into or "?"}
    return _("Withdrawn.")


#: History operations shown to the public, with their public note. Internal steps (task
#: acknowledgement, urging, requests and refusals inside the centers) are left out.
PUBLIC_NOTES = {
    "report": gettext_lazy("Report received."),
    "send_verify": gettext_lazy("Sent to a grid collector for on-site verification."),
    "verify": gettext_lazy("Checked on site."),
    "self_fix": gettext_lazy("Fixed on the spot by a grid collector; closed."),
    "merge": gettext_lazy("Merged into an earlier report of the same problem."),
    "accept": gettext_lazy("Accepted."),
    "reject": gettext_lazy("Not accepted."),
    "register": gettext_lazy("Registered as a case."),
    "not_register": gettext_lazy("Not registered."),
    "dispatch": gettext_lazy("Assigned to %(agency)s."),
    "reassign": gettext_lazy("Reassigned to %(agency)s."),
    "approve_return": gettext_lazy("Returned by the department; being reassigned."),
    "approve_extension": gettext_lazy("Deadline extended."),
    "approve_suspension": gettext_lazy("Handling suspended."),
    "resume": gettext_lazy("Handling resumed."),
    "feedback": gettext_lazy("The department reports it fixed."),
    "send_check": gettext_lazy("Sent for an on-site check."),
    "check_pass": gettext_lazy("Fix confirmed on site."),
    "check_fail": gettext_lazy("On-site check: not fixed; sent back for more work."),
    "reopen": gettext_lazy("Sent back for more work."),
    "close": gettext_lazy("Closed."),
    "approve_void": gettext_lazy("Withdrawn."),
    "return_visit": gettext_lazy("Return visit: the reporter was asked about the result."),
    "rate": gettext_lazy("The reporter rated the result."),
    "dispute": gettext_lazy("The reporter says it is not fixed; a re-check on site was started."),
    "recheck_confirm": gettext_lazy("Re-check: not fixed; sent back to %(agency)s for more work."),
    "recheck_reject": gettext_lazy("Re-check: fixed; closed again."),
}


def public_history(case: Case) -> list[dict[str, Any]]:
    """The public part of a case's history: time, operation, resulting stage, public note."""
    entries = History.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_id=case.pk, action__in=PUBLIC_NOTES
    ).order_by("seq")
    agency = case.department.name if case.department_id else ""
    notes = []
    for action, to_state, payload, at in entries.values_list("action", "to_state", "payload", "created_at"):
        text = str(PUBLIC_NOTES[action])
        if "%(agency)s" in text:
            text = text % {"agency": payload.get("department_name") or agency or _("the responsible department")}
        notes.append({"datetime": w3c(at), "type": action, "stage": to_state, "description": text})
    return notes


_ROW_FIELDS = (
    "pk number state category_id description address lon lat department_id created_at closed_at deadline "
    "verified self_handled rework_count merged_into__number open311__photos open311__address_id"
).split()


def _id_list(ids: list[int]) -> Any:
    """`ids` for an `__in` filter; on PostgreSQL one array parameter instead of one per id."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return ids


def request_records(
    cases, categories: dict[int, Category], media_base: str, *, extensions: bool = False
) -> list[dict[str, Any]]:
    """GeoReport `request` records of the cases in `cases` (a queryset, already limited).

    Built for 1,000 records per answer: tuples instead of model instances, one more query
    for disputed fixes, status notes computed once per distinct situation."""
    # the last change of a case is its history entry number `version` (one unique-index probe)
    last_change = History.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_id=OuterRef("pk"), seq=OuterRef("version")
    ).values("created_at")[:1]
    rows = list(
        cases.annotate(last_change=DbCase(When(closed_at__isnull=True, then=Subquery(last_change)))).values_list(
            *_ROW_FIELDS, "last_change"
        )
    )
    if not rows:
        return []
    tz = timezone.get_current_timezone()
    disputable = [r[0] for r in rows if r[2] == State.CLOSED or (r[2] == State.HANDLING and r[14])]
    disputes = _latest_disputes(disputable)
    agencies = dict(Department.objects.values_list("pk", "name"))
    services = {pk: (category_name(c), c.code) for pk, c in categories.items()}
    notes: dict[tuple, str] = {}
    out = []
    for pk, number, state, cat_id, text, address, lon, lat, dept_id, created, closed_at, deadline, *rest in rows:
        verified, self_handled, rework_count, merged_into, photos, address_id, last_change = rest
        agency = agencies.get(dept_id, "")
        key = (state, agency, verified, self_handled, bool(rework_count), disputes.get(pk), merged_into)
        note = notes.get(key)
        if note is None:
            note = notes[key] = status_note(
                state,
                agency=agency,
                verified=verified,
                self_handled=self_handled,
                rework_count=rework_count,
                dispute=key[5],
                merged_into=merged_into,
            )
        closed = state in CLOSED_STATES
        last = closed_at or last_change or created
        name, code = services[cat_id]
        record = {
            "service_request_id": number,
            "status": "closed" if closed else "open",
            "status_notes": note,
            "service_name": name,
            "service_code": code,
            "description": public_text(text),
            "agency_responsible": agency or None,
            "service_notice": None,
            "requested_datetime": created.astimezone(tz).isoformat(timespec="seconds"),
            "updated_datetime": last.astimezone(tz).isoformat(timespec="seconds"),
            "expected_datetime": w3c(deadline) if state == State.HANDLING else None,
            "address": mask_personal(address) if address else None,
            "address_id": address_id or None,
            "zipcode": None,
            "lat": lat,
            "long": lon,
            "media_url": f"{media_base}{photos[0]}.jpg" if photos else None,
        }
        if extensions:
            record["extended_attributes"] = {
                "detailed_status": state,
                "media_urls": [f"{media_base}{p}.jpg" for p in photos or ()],
            }
        out.append(record)
    return out


def _latest_disputes(case_ids: list[int]) -> dict[int, str]:
    """Outcome of the latest disputed fix per case ("" while its re-check is pending)."""
    if not case_ids:
        return {}
    rows = Dispute.objects.filter(case_id__in=_id_list(case_ids)).order_by("id").values_list("case_id", "outcome")
    return dict(rows)
