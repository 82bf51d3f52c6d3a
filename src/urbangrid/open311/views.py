"""GeoReport v2 endpoints under /open311/v2/ (thin: parsing and rendering around actions)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from urbangrid.cases.models import Attachment, Case, State
from urbangrid.catalog.models import CategorySynonym

from . import actions, public, ratelimit
from .conf import body_limit, conf, jurisdiction_ids
from .errors import Open311Error
from .models import LIST_TYPES, Changeset, RequestStatus, ServiceRequest, ServiceType
from .parsing import in_range, parse_int, parse_w3c
from .render import FORMATS, error_response, respond
from .validation import find_service, parse_submission

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
WINDOW = timedelta(days=90)
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.get_fixed_timezone(480))


def client_address(request: HttpRequest) -> str:
    header = conf("CLIENT_ADDRESS_HEADER")
    value = request.META.get(header, "") if header else ""
    address = value.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "") or "unknown"
    # it becomes part of a rate-counter key: printable ASCII only (no NUL for PostgreSQL)
    return "".join(c for c in address if c.isascii() and c.isprintable())[:60] or "unknown"


def throttle_lookups(request: HttpRequest, count: int = 1) -> None:
    """Count `count` lookups by id from the client's address (Open311 GETs by id, tokens,
    portal tracking); 429 Open311Error over `OPEN311_LOOKUP_RATE_LIMIT` per minute."""
    ratelimit.hit({f"l:{client_address(request)}": conf("OPEN311_LOOKUP_RATE_LIMIT")}, cost=count)


def check_jurisdiction(value: str | None) -> None:
    value = (value or "").strip()
    if value and value not in jurisdiction_ids():
        raise Open311Error(404, _("Unknown jurisdiction_id “%(j)s”.") % {"j": value})


def _language(locale: str) -> str | None:
    locale = locale.strip().lower().replace("_", "-")
    if not locale:
        return None
    return "en" if locale.startswith("en") else "zh-hans"


def endpoint(*methods: str) -> Callable:
    """Format suffix, allowed methods, jurisdiction_id, locale and the errors format."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str | None = None, **kwargs: Any) -> HttpResponse:
            fmt = (fmt or "xml").lower()
            if fmt not in FORMATS:
                return error_response("xml", [(400, _("Unknown format “%(f)s”: use .xml or .json.") % {"f": fmt})], 400)
            if request.method not in allowed:
                text = _("Method %(m)s is not allowed here.") % {"m": request.method}
                return error_response(fmt, [(405, text)], 405, {"Allow": ", ".join(sorted(allowed))})
            try:
                check_jurisdiction(request.GET.get("jurisdiction_id"))
                language = _language(request.GET.get("locale", "")) or translation.get_language()
                with translation.override(language):
                    return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return error_response(fmt, exc.errors, exc.status, exc.headers)

        return wrapper

    return decorate


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": "xml"}))[: -len("services.xml")]


def media_base(request: HttpRequest) -> str:
    """Absolute URL prefix of published photos."""
    return _base_url(request) + "media/"


# --- discovery and services ---------------------------------------------------------------


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    row = Changeset.objects.filter(pk=1).first()
    changeset = public.w3c(row.changed_at if row else _EPOCH)
    return respond(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": conf("OPEN311_CONTACT"),
            "key_service": conf("OPEN311_KEY_SERVICE"),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": _base_url(request),
                    "changeset": changeset,
                    "type": conf("OPEN311_ENDPOINT_TYPE"),
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    cats = public.public_categories()
    configs = public.service_configs()
    synonyms: dict[int, list[str]] = {}
    for cat_id, name in CategorySynonym.objects.filter(category_id__in=cats).values_list("category_id", "name"):
        synonyms.setdefault(cat_id, []).append(name)
    out = []
    for cat in cats.values():
        svc = configs.get(cat.pk)
        words = [w.strip() for w in (svc.keywords if svc else "").split(",") if w.strip()]
        out.append(
            {
                "service_code": cat.code,
                "service_name": public.category_name(cat),
                "description": svc.description if svc else "",
                "metadata": bool(svc and any(a.variable for a in svc.attributes.all())),
                "type": svc.type if svc else ServiceType.REALTIME.value,
                "keywords": ",".join(dict.fromkeys(words + synonyms.get(cat.pk, []))),
                "group": public.category_name(cat.parent),
            }
        )
    return respond(fmt, "services", out)


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    cat = find_service(code, public.public_categories())
    svc = public.service_configs().get(cat.pk)
    attributes = []
    for attr in svc.attributes.all() if svc else []:
        item: dict[str, Any] = {
            "variable": attr.variable,
            "code": attr.code,
            "datatype": attr.datatype,
            "required": attr.required,
            "datatype_description": attr.datatype_description,
            "order": attr.order,
            "description": attr.description,
        }
        if attr.datatype in LIST_TYPES:
            item["values"] = [{"key": v.key, "name": v.name} for v in attr.values.all()]
        attributes.append(item)
    return respond(fmt, "service_definition", {"service_code": cat.code, "attributes": attributes})


# --- requests -----------------------------------------------------------------------------


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create_request(request, fmt)
    return _search(request, fmt)


def _post_record(req: ServiceRequest) -> dict[str, Any]:
    record: dict[str, Any] = (
        {"token": req.token} if req.status == RequestStatus.PENDING else {"service_request_id": req.case.number}
    )
    record["service_notice"] = actions.service_notice(req)
    record["account_id"] = req.account_id or None
    return record


def check_body_size(request: HttpRequest) -> None:
    """413 when the declared body is larger than Open311 accepts (before it is read)."""
    limit = body_limit()
    length = (request.META.get("CONTENT_LENGTH") or "").strip()
    if length and (parse_int(length) or limit + 1) > limit:
        raise Open311Error(413, _("The request is larger than %(mb)d MB.") % {"mb": limit // 2**20})


def _create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    check_body_size(request)
    check_jurisdiction(request.POST.get("jurisdiction_id"))
    key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    app = actions.application_for(key) if key else None
    address = client_address(request)
    if app is None:
        ratelimit.hit({f"a:{address}": conf("OPEN311_ADDRESS_RATE_LIMIT")})
        raise Open311Error(403, _("A valid api_key is required to create requests."))
    ratelimit.hit({f"k:{app.pk}": app.rate_limit, f"a:{app.pk}:{address}": app.address_rate_limit})
    idempotency_key = request.headers.get("Idempotency-Key", "").strip()
    if len(idempotency_key) > 128:
        raise Open311Error(400, _("The Idempotency-Key header is longer than 128 characters."))
    if not (idempotency_key.isascii() and idempotency_key.isprintable()):
        raise Open311Error(400, _("The Idempotency-Key header may only contain printable ASCII characters."))
    fingerprint = actions.fingerprint(request.POST, request.FILES) if idempotency_key else ""
    req = actions.replay(app, idempotency_key, fingerprint)
    if req is None:
        sub = parse_submission(request.POST, request.FILES, public.public_categories())
        req = actions.submit(
            sub, actor=app.user, application=app, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
    return respond(fmt, "service_requests", [_post_record(req)])


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _date(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    value = parse_w3c(raw, bounded=False)
    if value is None:
        raise Open311Error(400, _("%(p)s must be a W3C date and time such as 2026-05-17T09:30:00+08:00.") % {"p": name})
    if not in_range(value):
        raise Open311Error(400, _("%(p)s must lie between the years 1900 and 2999.") % {"p": name})
    return value


def _int(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    value = parse_int(raw, low, high)
    if value is None:
        raise Open311Error(
            400, _("%(p)s must be a whole number from %(a)d to %(b)d.") % {"p": name, "a": low, "b": high}
        )
    return value


def _search(request: HttpRequest, fmt: str) -> HttpResponse:
    cats = public.public_categories()
    qs = public.published_cases()
    ids = list(dict.fromkeys(_split(request.GET.get("service_request_id"))))
    page = _int(request, "page", 1, 1, 10_000)
    page_size = _int(request, "page_size", MAX_RESULTS, 1, MAX_RESULTS)
    if ids:
        if len(ids) > conf("OPEN311_MAX_IDS"):
            raise Open311Error(
                400, _("Ask for at most %(n)d service_request_id values at a time.") % {"n": conf("OPEN311_MAX_IDS")}
            )
        throttle_lookups(request, len(ids))
        qs = qs.filter(number__in=ids)
    else:
        errors = []
        try:
            start, end = _date(request, "start_date"), _date(request, "end_date")
        except Open311Error as exc:
            errors += exc.messages
            start = end = None
        statuses = set(_split(request.GET.get("status")))
        if statuses - {"open", "closed"}:
            errors.append(_("status takes open, closed or both (comma-separated)."))
        if start and end and start > end:
            errors.append(_("start_date must not be after end_date."))
        elif start and end and end - start > WINDOW:
            errors.append(_("start_date and end_date may not span more than 90 days."))
        if errors:
            raise Open311Error(400, *errors)
        if start and not end:
            end = min(start + WINDOW, timezone.now())
        elif end and not start:
            start = end - WINDOW
        elif not start:
            end = timezone.now()
            start = end - WINDOW
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        codes = set(_split(request.GET.get("service_code")))
        if codes:
            qs = qs.filter(category_id__in=[pk for pk, c in cats.items() if c.code in codes])
        if statuses == {"open"}:
            qs = qs.exclude(state__in=public.CLOSED_STATES)
        elif statuses == {"closed"}:
            qs = qs.filter(state__in=public.CLOSED_STATES)
    qs = qs.order_by("-created_at")[(page - 1) * page_size : page * page_size]
    extensions = request.GET.get("extensions", "").lower() == "true"
    records = public.request_records(qs, cats, media_base(request), extensions=extensions)
    return respond(fmt, "service_requests", records)


def _public_case(number: str) -> Case:
    case = public.published_cases().filter(number=number).select_related("department").first()
    if case is None:
        raise Open311Error(404, _("Unknown service_request_id “%(id)s”.") % {"id": number})
    return case


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    throttle_lookups(request)
    case = _public_case(request_id)
    extensions = request.GET.get("extensions", "").lower() == "true"
    qs = Case.objects.filter(pk=case.pk)
    records = public.request_records(qs, public.public_categories(), media_base(request), extensions=extensions)
    if extensions:
        records[0]["extended_attributes"]["notes"] = public.public_history(case)
    return respond(fmt, "service_requests", records)


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    throttle_lookups(request)
    req = ServiceRequest.objects.select_related("case").filter(token=token).first()
    if req is None:
        raise Open311Error(404, _("Unknown token “%(t)s”.") % {"t": token})
    if req.status == RequestStatus.FAILED:
        raise Open311Error(400, _("The request could not be created: %(e)s") % {"e": req.error})
    number = req.case.number if req.case_id else None
    return respond(fmt, "service_requests", [{"service_request_id": number, "token": req.token}])


def media(request: HttpRequest, token: str) -> FileResponse:
    """A published photo: re-encoded at upload, so it carries no metadata."""
    from django.contrib.contenttypes.models import ContentType

    att = Attachment.objects.filter(
        token=token, content_type=ContentType.objects.get_for_model(Case), object_id__isnull=False
    ).first()
    if (
        att is None
        or not public.published_cases().filter(pk=att.object_id).exclude(state=State.VOIDED).exists()
        or not ServiceRequest.objects.filter(case_id=att.object_id, photos__icontains=token).exists()
    ):
        raise Http404("No such photo.")
    response = FileResponse(att.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@csrf_exempt
def unknown(request: HttpRequest, rest: str = "", fmt: str | None = None) -> HttpResponse:
    """Any other path under /open311/: 404 in the GeoReport format of its suffix (XML when
    the suffix is missing or unknown)."""
    return error_response((fmt or "xml").lower(), [(404, _("There is no GeoReport v2 resource here."))], 404)
