"""GeoReport v2 serialisation: XML (mandatory, no namespace) and JSON by the Spark convention.

Responses are built as plain Python data; JSON dumps it as is, XML names the items of
each list after its container (ITEM_NAMES) — a list at the root keeps the root name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpResponse

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "media_urls": "media_url",
    "notes": "note",
}
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_UNSAFE.sub("", str(value)).translate(_ESCAPES)


def _element(name: str, value: Any, out: list[str]) -> None:
    if value is None or value == "" or value == []:
        out.append(f"<{name}/>")
    elif isinstance(value, Mapping):
        out.append(f"<{name}>")
        for key, item in value.items():
            _element(key, item, out)
        out.append(f"</{name}>")
    elif isinstance(value, list | tuple):
        item_name = ITEM_NAMES[name]
        out.append(f"<{name}>")
        for item in value:
            _element(item_name, item, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_text(value)}</{name}>")


def to_xml(root: str, data: Any) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n']
    _element(root, data, out)
    return "".join(out).encode()


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def respond(fmt: str, root: str, data: Any, status: int = 200, headers: Mapping[str, str] | None = None):
    body = to_json(data) if fmt == "json" else to_xml(root, data)
    response = HttpResponse(body, status=status, content_type=FORMATS.get(fmt, FORMATS["xml"]))
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(
    fmt: str, errors: Iterable[tuple[int, str]], status: int, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    body = [{"code": code, "description": str(text)} for code, text in errors]
    return respond(fmt if fmt in FORMATS else "xml", "errors", body, status, headers)
