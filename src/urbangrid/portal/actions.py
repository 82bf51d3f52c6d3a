"""Citizen portal actions: report through the Open311 intake, find a case, rate the result."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils.crypto import constant_time_compare, get_random_string
from django.utils.datastructures import MultiValueDict
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from urbangrid.cases.actions import rate_case
from urbangrid.cases.models import Case
from urbangrid.open311 import public
from urbangrid.open311.actions import fingerprint, portal_user, submit
from urbangrid.open311.errors import Open311Error
from urbangrid.open311.models import ServiceRequest, hash_key
from urbangrid.open311.validation import parse_submission
from urbangrid.workflow.models import History

_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def report(cleaned: dict[str, Any], photo) -> tuple[ServiceRequest, str]:
    """Submit the portal form as an Open311 request (source citizen). Returns the request
    and the personal rating code ("" when the form was already submitted)."""
    data = QueryDict(mutable=True)
    data.update(
        {
            "service_code": cleaned["service_code"],
            "lat": cleaned["lat"],
            "long": cleaned["long"],
            "address_string": cleaned["address"],
            "description": strip_tags(cleaned["description"]),
            "first_name": cleaned["name"],
            "phone": cleaned["phone"],
            "email": cleaned["email"],
        }
    )
    files = MultiValueDict({"media": [photo]} if photo else {})
    sub = parse_submission(data, files, public.public_categories())
    req = submit(
        sub,
        actor=portal_user(),
        application=None,
        idempotency_key=cleaned["form_token"],
        fingerprint=fingerprint(data, files),
    )
    code = ""
    if not req.rating_code_hash:
        code = get_random_string(8, allowed_chars=_CODE_CHARS)
        req.rating_code_hash = hash_key(code)
        req.save(update_fields=["rating_code_hash"])
    return req, code


def tracking_number(req: ServiceRequest) -> str:
    return req.case.number if req.case_id else req.token or ""


def find_case(number: str) -> Case | None:
    """A published case (open311.public.published_cases) by its number, or by the token of
    a queued request."""
    number = number.strip()
    if not number:
        return None
    published = public.published_cases()
    case = published.filter(number=number).select_related("department").first()
    if case is None:
        req = ServiceRequest.objects.filter(token=number, case__in=published).select_related("case").first()
        case = req.case if req else None
    return case


def may_rate(case: Case) -> bool:
    """Closed, reported through the portal, not yet rated since it was closed."""
    req = ServiceRequest.objects.filter(case=case).first()
    return bool(
        case.state == "closed"
        and req
        and req.rating_code_hash
        and not case.ratings.filter(closed_at=case.closed_at).exists()
    )


def rate(case: Case, code: str, rating: str, comment: str = "", not_fixed: bool = False) -> list[History]:
    """The reporter rates the result with their personal code; "not fixed" starts a re-check."""
    req = ServiceRequest.objects.filter(case=case).first()
    if (
        not req
        or not req.rating_code_hash
        or not constant_time_compare(hash_key(code.strip().upper()), req.rating_code_hash)
    ):
        raise Open311Error(403, _("The personal code does not match this case."))
    return rate_case(case, portal_user(), rating=rating, comment=strip_tags(comment), not_fixed=not_fixed)
