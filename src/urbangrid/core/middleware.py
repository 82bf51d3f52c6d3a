"""Request hygiene before any view runs, answered in the error format of each area.

- NUL characters: PostgreSQL cannot store U+0000 in text, so a NUL anywhere in the text a
  view may store or query with would be a 500. Refused with 400 when found in the path, the
  query string, an urlencoded body, the text fields (and file names) of a multipart body or
  the strings of a JSON body (raw or as the escape \\u0000). File contents are binary and
  never checked.
- Lone surrogates (the JSON escapes \\ud800-\\udfff without their pair) in the strings of a
  JSON body: they decode to text that cannot be encoded as UTF-8, so storing it would be a
  500 on every database. Refused with 400.
- Bodies too large (413) or malformed (400, e.g. multipart without a boundary, too many
  fields) answer in the area's error format instead of Django's HTML page, under /open311/
  and /api/ alike.
- Files written in a transaction that rolled back are deleted after the response
  (core.files.sweep_all).

Formats: GeoReport `errors` (XML or JSON by the path's suffix) under /open311/, the API's
{"error": {"code", "message", "fields"}} under /api/, a plain translated page elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.html import escape
from django.utils.translation import gettext as _

from . import files

NUL = "\x00"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_OPEN311_SUFFIX = re.compile(r"\.(json|xml)$", re.IGNORECASE)


class Rejected(Exception):
    def __init__(self, status: int, message: str, code: str = "invalid"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _area(path: str) -> str:
    if path.startswith("/open311/"):
        return "open311"
    if path.startswith("/api/"):
        return "api"
    return "site"


def has_nul(values: Iterable[str]) -> bool:
    return any(NUL in v for v in values)


def _querydict_has_nul(data: QueryDict) -> bool:
    return any(NUL in key or has_nul(values) for key, values in data.lists())


def _json_strings(data) -> Iterable[str]:
    """Every string (key or value) of decoded JSON."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def json_has_lone_surrogate(body: bytes) -> bool:
    """Whether a JSON body holds a string with an unpaired surrogate (escaped as \\udXXX): text
    that cannot be stored. Paired surrogates (an escaped emoji) are fine; an unparseable body is
    left to the view (which refuses it)."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False
    for text in _json_strings(data):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


def json_has_nul(body: bytes) -> bool:
    """Whether a JSON body holds a NUL: a raw NUL byte, or a string (key or value) that
    decodes to one. A body that merely contains the text "\\\\u0000" (escaped backslash) is fine."""
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return True  # unparseable anyway; do not let it reach a view
    return any(NUL in text for text in _json_strings(data))


def _check(request: HttpRequest, area: str) -> None:
    """Raise Rejected for a NUL in any text of the request, a lone surrogate in a JSON body
    (and, under /open311/, for a body too large to accept)."""
    nul = Rejected(400, _("The request contains a NUL character (U+0000), which is not allowed in text."))
    if NUL in request.path_info or _querydict_has_nul(request.GET):
        raise nul
    if request.method not in _BODY_METHODS:
        return
    if area == "open311" and request.method == "POST":
        from urbangrid.open311.errors import Open311Error
        from urbangrid.open311.views import check_body_size

        try:
            check_body_size(request)
        except Open311Error as exc:
            raise Rejected(exc.status, exc.messages[0], "too_large") from None
    ctype = request.content_type or ""
    if ctype == "application/json" or ctype.endswith("+json"):
        if json_has_nul(request.body):
            raise nul
        if json_has_lone_surrogate(request.body):
            raise Rejected(400, _("The request contains text that is not valid Unicode (an unpaired surrogate)."))
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if request.method == "POST":
            data = request.POST
            names = [f"{key}{f.name or ''}" for key, items in request.FILES.lists() for f in items]
        elif ctype == "application/x-www-form-urlencoded":
            data, names = QueryDict(request.body, encoding=request.encoding), []
        else:
            return  # multipart PUT/PATCH: parsed by the view's own code
        if _querydict_has_nul(data) or has_nul(names):
            raise nul


def _respond(request: HttpRequest, area: str, rejected: Rejected) -> HttpResponse:
    if area == "open311":
        from urbangrid.open311.render import error_response

        m = _OPEN311_SUFFIX.search(request.path_info)
        fmt = m.group(1).lower() if m else "xml"
        return error_response(fmt, [(rejected.status, rejected.message)], rejected.status)
    if area == "api":
        from urbangrid.core.api_errors import error_body

        return JsonResponse(error_body(rejected.code, rejected.message), status=rejected.status)
    title = _("Bad request")
    body = f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
    body += f"<body><h1>{escape(title)} ({rejected.status})</h1><p>{escape(rejected.message)}</p></body></html>\n"
    return HttpResponse(body, status=rejected.status, content_type="text/html; charset=utf-8")


class RequestHygieneMiddleware:
    """See the module docstring. Placed after LocaleMiddleware (messages are translated)
    and before CsrfViewMiddleware (which reads the body too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            area = _area(request.path_info)
            try:
                _check(request, area)
            except Rejected as rejected:
                return _respond(request, area, rejected)
            except RequestDataTooBig:
                if area == "site":
                    raise
                message = _("The request body is too large.")
                return _respond(request, area, Rejected(413, message, "too_large"))
            except (MultiPartParserError, TooManyFieldsSent, SuspiciousOperation):
                if area == "site":
                    raise
                message = _("The request body could not be read: send a valid form (urlencoded or multipart).")
                return _respond(request, area, Rejected(400, message))
            return self.get_response(request)
        finally:
            files.sweep_all()
