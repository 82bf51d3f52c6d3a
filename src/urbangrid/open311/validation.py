"""Checking GeoReport v2 input: dates, POST service requests and attribute answers.

Every problem found is reported at once (one `error` each); unknown service codes answer
404 and media problems 413/415, everything else 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from urbangrid.catalog.models import Category

from . import public
from .conf import conf
from .errors import Open311Error
from .media import reencode_all
from .models import Datatype, Service, ServiceAttribute
from .parsing import MAX_ID, is_decimal, parse_decimal, parse_int, parse_w3c

MAX_DESCRIPTION = 4000
MAX_TEXT_ATTRIBUTE = 4000
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Submission:
    """A valid service request, ready to become a case."""

    category: Category
    service: Service | None
    lon: float
    lat: float
    address: str
    address_id: str
    description: str
    reporter: dict[str, str]
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    photos: list[bytes] = field(default_factory=list)


def find_service(code: str, services: dict[int, Category]) -> Category:
    code = (code or "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    for cat in services.values():
        if cat.code == code:
            return cat
    raise Open311Error(404, _("Unknown service_code “%(c)s”.") % {"c": code})


def _first(data, name: str) -> str:
    return (data.get(name) or "").strip()


def _reporter_name(first: str, last: str) -> str:
    if _CJK.search(first + last):
        return f"{last}{first}"
    return " ".join(p for p in (first, last) if p)


def _location(data, errors: list[str]) -> tuple[float, float, str, str] | None:
    """(lon, lat, address text, address_id) from lat/long, address_id or address_string."""
    from urbangrid.geo.geocoding import GeocodeError, geocode
    from urbangrid.geo.models import Place

    lat_s, long_s = _first(data, "lat"), _first(data, "long")
    address, address_id = _first(data, "address_string")[:200], _first(data, "address_id")[:40]
    point: tuple[float, float] | None = None
    if lat_s or long_s:
        if not (lat_s and long_s):
            errors.append(_("lat and long must be sent together."))
            return None
        lat_f, lon_f = parse_decimal(lat_s), parse_decimal(long_s)
        if lat_f is None or lon_f is None:
            errors.append(_("lat and long must be decimal degrees (WGS-84)."))
            return None
        lat, lon = lat_f, lon_f
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            errors.append(_("lat must lie between -90 and 90 and long between -180 and 180."))
            return None
        point = (lon, lat)
    if address_id:
        place_id = parse_int(address_id, 1, MAX_ID)
        place = Place.objects.filter(pk=place_id).first() if place_id is not None else None
        if place is None:
            errors.append(_("Unknown address_id “%(a)s”.") % {"a": address_id})
            return None
        point = point or (place.lon, place.lat)
        address = address or place.name
    if point is None and address:
        try:
            best = geocode(address, limit=1)[0]
        except GeocodeError:
            errors.append(_("The address “%(a)s” was not found; send lat and long.") % {"a": address})
            return None
        point = (best.lon, best.lat)
    if point is None:
        errors.append(_("A location is required: lat and long, address_string or address_id."))
        return None
    return point[0], point[1], address, address_id


def _inside_jurisdiction(lon: float, lat: float) -> bool:
    from urbangrid.geo.index import OutsideJurisdiction, get_index

    try:
        get_index().locate(lon, lat)
    except OutsideJurisdiction:
        return False
    return True


def _attribute_values(data) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}
    for name in data:
        m = _ATTRIBUTE.match(name)
        if m:
            answers.setdefault(m.group(1), []).extend(v.strip() for v in data.getlist(name))
    return answers


def check_attribute(attr: ServiceAttribute, values: list[str]) -> tuple[Any, str | None]:
    """(clean value, error) for the answers given to one attribute; clean value None = no answer."""
    values = [v for v in values if v != ""]
    if not values:
        if attr.required:
            return None, _("attribute[%(c)s] is required: %(d)s") % {"c": attr.code, "d": attr.description}
        return None, None
    dt = attr.datatype
    if dt == Datatype.MULTIVALUELIST:
        keys = {v.key for v in attr.values.all()}
        bad = [v for v in values if v not in keys]
        if bad:
            return None, _("attribute[%(c)s]: unknown value “%(v)s”.") % {"c": attr.code, "v": bad[0]}
        return list(dict.fromkeys(values)), None
    if len(values) > 1:
        return None, _("attribute[%(c)s] takes one value.") % {"c": attr.code}
    value = values[0]
    if dt == Datatype.SINGLEVALUELIST and value not in {v.key for v in attr.values.all()}:
        return None, _("attribute[%(c)s]: unknown value “%(v)s”.") % {"c": attr.code, "v": value}
    if dt == Datatype.STRING and ("\n" in value or "\r" in value or len(value) > 300):
        return None, _("attribute[%(c)s] must be one line of at most 300 characters.") % {"c": attr.code}
    if dt == Datatype.TEXT and len(value) > MAX_TEXT_ATTRIBUTE:
        return None, _("attribute[%(c)s] is longer than %(n)d characters.") % {"c": attr.code, "n": MAX_TEXT_ATTRIBUTE}
    if dt == Datatype.NUMBER and not is_decimal(value):
        return None, _("attribute[%(c)s] must be a decimal number such as 12.5.") % {"c": attr.code}
    if dt == Datatype.DATETIME and parse_w3c(value) is None:
        return None, _("attribute[%(c)s] must be a date and time such as 2026-05-17T09:30:00+08:00.") % {"c": attr.code}
    return value, None


def _attributes(service: Service | None, data, errors: list[str]) -> dict[str, Any]:
    answers = _attribute_values(data)
    clean: dict[str, Any] = {}
    attrs = list(service.attributes.all()) if service else []
    known = {a.code for a in attrs}
    for attr in attrs:
        if not attr.variable:
            continue
        value, error = check_attribute(attr, answers.get(attr.code, []))
        if error:
            errors.append(error)
        elif value is not None:
            clean[attr.code] = value
    if service and service.strict_attributes:
        errors.extend(_("Unknown attribute “%(c)s”.") % {"c": c} for c in answers if c not in known)
    return clean


def media_files(files) -> list:
    uploads = [*files.getlist("media"), *files.getlist("media[]")]
    uploads += [f for name, f in sorted(files.items()) if re.fullmatch(r"photo\d+", name)]
    if len(uploads) > conf("OPEN311_MAX_MEDIA_FILES"):
        raise Open311Error(413, _("At most %(n)d photos per request.") % {"n": conf("OPEN311_MAX_MEDIA_FILES")})
    return uploads


def parse_submission(data, files, services: dict[int, Category]) -> Submission:
    """A Submission from POST data (QueryDict) and files; raises Open311Error listing every problem."""
    cat = find_service(_first(data, "service_code"), services)
    service: Service | None = public.service_configs().get(cat.pk)
    errors: list[str] = []
    location = _location(data, errors)
    if location and not _inside_jurisdiction(location[0], location[1]):
        errors.append(_("The location is outside the jurisdiction."))
    description = (data.get("description") or "").strip()
    if not description:
        errors.append(_("description is required: describe the problem."))
    elif len(description) > MAX_DESCRIPTION:
        errors.append(_("description is longer than %(n)d characters.") % {"n": MAX_DESCRIPTION})
    email, phone, media_url = _first(data, "email"), _first(data, "phone"), _first(data, "media_url")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(_("email is not a valid e-mail address."))
    if len(phone) > 32:
        errors.append(_("phone is longer than 32 characters."))
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors.append(_("media_url is not a valid http(s) URL."))
    attributes = _attributes(service, data, errors)
    if errors:
        raise Open311Error(400, *errors)
    photos = reencode_all(media_files(files))
    lon, lat, address, address_id = location  # type: ignore[misc]
    return Submission(
        category=cat,
        service=service,
        lon=lon,
        lat=lat,
        address=address,
        address_id=address_id,
        description=description,
        reporter={
            "name": _reporter_name(_first(data, "first_name"), _first(data, "last_name"))[:64],
            "phone": phone,
            "email": email[:254],
        },
        device_id=_first(data, "device_id")[:100],
        account_id=_first(data, "account_id")[:100],
        media_url=media_url[:500],
        attributes=attributes,
        photos=photos,
    )
