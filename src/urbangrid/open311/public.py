"""What the public may see of a case: Open311 status, status notes, public history and the
GeoReport `request` records. Reporter personal data and staff names never leave here."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from urbangrid.cases.models import Case, Dispute, State
from urbangrid.catalog.models import Category
from urbangrid.core.models import Department
from urbangrid.workflow.models import History

CLOSED_STATES = frozenset({State.CLOSED, State.REJECTED, State.VOIDED, State.MERGED})
REQUEST_FIELDS = (
    "service_request_id status status_notes service_name service_code description agency_responsible service_notice "
    "requested_datetime updated_datetime expected_datetime address address_id zipcode lat long media_url"
).split()
_PERSONAL = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "***@***"),  # e-mail
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "******************"),  # resident identity card
    (re.compile(r"(?<!\d)(\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)"), "***********"),  # mobile
]


def w3c(dt: datetime | None) -> str | None:
    """YYYY-MM-DDThh:mm:ss±hh:mm in the installation's time zone."""
    return timezone.localtime(dt).isoformat(timespec="seconds") if dt else None


def public_text(text: str) -> str:
    """A reporter's description as plain text, with phone numbers, e-mail addresses and
    identity numbers masked."""
    if "<" in text:
        text = strip_tags(text)
    for pattern, mask in _PERSONAL:
        text = pattern.sub(mask, text)
    return text


#: Seconds the service categories stay cached in a process (changes made in this process
#: clear the cache at once, see signals.py).
SERVICE_CACHE_SECONDS = 10.0
_service_cache: dict[str, Any] = {"at": 0.0, "categories": None}


def public_categories() -> dict[int, Category]:
    """Open311 services: active minor event classes open to public reports, by id."""
    now = time.monotonic()
    cached = _service_cache["categories"]
    if cached is None or now - _service_cache["at"] > SERVICE_CACHE_SECONDS:
        qs = Category.objects.filter(kind="event", parent__isnull=False, is_public=True, active=True)
        cached = {c.pk: c for c in qs.select_related("parent").order_by("code")}
        _service_cache.update(at=now, categories=cached)
    return cached


def clear_service_cache() -> None:
    _service_cache["categories"] = None


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
    "report": _l("Report received."),
    "send_verify": _l("Sent to a grid collector for on-site verification."),
    "verify": _l("Checked on site."),
    "self_fix": _l("Fixed on the spot by a grid collector; closed."),
    "merge": _l("Merged into an earlier report of the same problem."),
    "accept": _l("Accepted."),
    "reject": _l("Not accepted."),
    "register": _l("Registered as a case."),
    "not_register": _l("Not registered."),
    "dispatch": _l("Assigned to %(agency)s."),
    "reassign": _l("Reassigned to %(agency)s."),
    "approve_return": _l("Returned by the department; being reassigned."),
    "approve_extension": _l("Deadline extended."),
    "approve_suspension": _l("Handling suspended."),
    "resume": _l("Handling resumed."),
    "feedback": _l("The department reports it fixed."),
    "send_check": _l("Sent for an on-site check."),
    "check_pass": _l("Fix confirmed on site."),
    "check_fail": _l("On-site check: not fixed; sent back for more work."),
    "reopen": _l("Sent back for more work."),
    "close": _l("Closed."),
    "approve_void": _l("Withdrawn."),
    "return_visit": _l("Return visit: the reporter was asked about the result."),
    "rate": _l("The reporter rated the result."),
    "dispute": _l("The reporter says it is not fixed; a re-check on site was started."),
    "recheck_confirm": _l("Re-check: not fixed; sent back to %(agency)s for more work."),
    "recheck_reject": _l("Re-check: fixed; closed again."),
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


def request_records(
    cases, categories: dict[int, Category], media_base: str, *, extensions: bool = False
) -> list[dict[str, Any]]:
    """GeoReport `request` records of the cases in `cases` (a queryset, already limited)."""
    rows = list(cases.values(*_ROW_FIELDS))
    if not rows:
        return []
    ids = [r["pk"] for r in rows]
    updated = dict(
        History.objects.filter(content_type=ContentType.objects.get_for_model(Case), object_id__in=ids)
        .values("object_id")
        .annotate(at=Max("created_at"))
        .values_list("object_id", "at")
    )
    disputes = _latest_disputes([r["pk"] for r in rows if r["state"] in _DISPUTE_STATES])
    agencies = dict(Department.objects.values_list("pk", "name"))
    out = []
    for r in rows:
        cat = categories[r["category_id"]]
        state = r["state"]
        agency = agencies.get(r["department_id"], "")
        photos = r["open311__photos"] or []
        closed = state in CLOSED_STATES
        record = {
            "service_request_id": r["number"],
            "status": "closed" if closed else "open",
            "status_notes": status_note(
                state,
                agency=agency,
                verified=r["verified"],
                self_handled=r["self_handled"],
                rework_count=r["rework_count"],
                dispute=disputes.get(r["pk"]),
                merged_into=r["merged_into__number"],
            ),
            "service_name": category_name(cat),
            "service_code": cat.code,
            "description": public_text(r["description"]),
            "agency_responsible": agency or None,
            "service_notice": None,
            "requested_datetime": w3c(r["created_at"]),
            "updated_datetime": w3c((closed and r["closed_at"]) or updated.get(r["pk"]) or r["created_at"]),
            "expected_datetime": w3c(r["deadline"]) if state == State.HANDLING else None,
            "address": r["address"] or None,
            "address_id": r["open311__address_id"] or None,
            "zipcode": None,
            "lat": r["lat"],
            "long": r["lon"],
            "media_url": f"{media_base}{photos[0]}.jpg" if photos else None,
        }
        if extensions:
            record["extended_attributes"] = {
                "detailed_status": state,
                "media_urls": [f"{media_base}{p}.jpg" for p in photos],
            }
        out.append(record)
    return out


_DISPUTE_STATES = (State.HANDLING, State.CLOSED)


def _latest_disputes(case_ids: Iterable[int]) -> dict[int, str]:
    ids = list(case_ids)
    if not ids:
        return {}
    latest: dict[int, str] = {}
    for case_id, outcome in Dispute.objects.filter(case_id__in=ids).order_by("id").values_list("case_id", "outcome"):
        latest[case_id] = outcome
    return latest
