"""Code validators for administrative divisions (行政区划代码) and unit grids (单元网格编码).

* County and above: GB/T 2260, 6 digits (``330000`` province, ``330400`` city, ``330483`` county).
* Street / township: GB/T 10114, county + 3 digits: ``001-099`` street office (街道),
  ``100-199`` town (镇), ``200-399`` township (乡), ``400-599`` state farm or similar.
* Community / village: street + 3 digits (12-digit statistical division code).
* Unit grid: community + 2-digit sequence (CJ/T 213, 14 digits) or + 3-digit sequence
  (GB/T 30428.1, 15 digits); the length is ``settings.URBANGRID["GRID_CODE_LENGTH"]``.

Validators raise :class:`django.core.exceptions.ValidationError` with a message that names
the code and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Container

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import DivisionLevel

COMMUNITY_CODE_LENGTH = 12


def grid_code_length() -> int:
    """The configured unit-grid code length (14 for CJ/T 213, 15 for GB/T 30428.1)."""
    length = int(settings.URBANGRID.get("GRID_CODE_LENGTH", 14))
    if length not in (14, 15):
        raise ValueError(f"URBANGRID['GRID_CODE_LENGTH'] must be 14 or 15, not {length}")
    return length


def street_kind(code: str) -> str:
    """GB/T 10114 kind of a 9-digit street code: street, town, township or farm."""
    seq = int(code[6:9])
    if 1 <= seq <= 99:
        return "street"
    if 100 <= seq <= 199:
        return "town"
    if 200 <= seq <= 399:
        return "township"
    if 400 <= seq <= 599:
        return "farm"
    raise ValidationError(
        _("Street code %(code)s: the last three digits %(seq)s are outside the GB/T 10114 "
          "ranges (001-099 street, 100-199 town, 200-399 township, 400-599 farm)."),
        code="street_range", params={"code": code, "seq": code[6:9]},
    )


def division_level(code: str) -> str:
    """Infer the :class:`DivisionLevel` of a division code from its structure."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        raise ValidationError(
            _("Division code %(code)r must contain digits only."), code="digits", params={"code": code},
        )
    if len(code) == 6:
        if code[:2] == "00":
            raise ValidationError(
                _("Division code %(code)s has no province part (GB/T 2260)."),
                code="province", params={"code": code},
            )
        if code[2:] == "0000":
            return DivisionLevel.PROVINCE
        if code[4:] == "00":
            return DivisionLevel.CITY
        return DivisionLevel.COUNTY
    if len(code) == 9:
        street_kind(code)
        return DivisionLevel.STREET
    if len(code) == 12:
        street_kind(code[:9])
        if code[9:] == "000":
            raise ValidationError(
                _("Community code %(code)s: the community number must not be 000."),
                code="community_zero", params={"code": code},
            )
        return DivisionLevel.COMMUNITY
    raise ValidationError(
        _("Division code %(code)s has %(n)d digits; use 6 (county, GB/T 2260), 9 (street, "
          "GB/T 10114) or 12 (community)."),
        code="length", params={"code": code, "n": len(code)},
    )


def expected_parent_code(code: str) -> str | None:
    """The code of the division directly above ``code`` by the code structure."""
    level = division_level(code)
    if level == DivisionLevel.PROVINCE:
        return None
    if level == DivisionLevel.CITY:
        return code[:2] + "0000"
    if level == DivisionLevel.COUNTY:
        return code[:4] + "00"
    if level == DivisionLevel.STREET:
        return code[:6]
    return code[:9]


def validate_division_code(
    code: str, parent_code: str | None = None, *, level: str | None = None,
    known: Container[str] | None = None,
) -> str:
    """Validate a division code and its parent; return its level.

    ``parent_code`` when given must be the code's prefix (for a county: its city, or its
    province for county-level cities directly under a province). ``known`` holds the
    division codes that exist; a street or community whose parent is not known is an
    error (counties and cities may sit below a missing parent in small deployments).
    """
    actual = division_level(code)
    if level and level != actual:
        raise ValidationError(
            _("Division code %(code)s is a %(actual)s code, not a %(level)s code."),
            code="level",
            params={"code": code, "actual": DivisionLevel(actual).label, "level": DivisionLevel(level).label},
        )
    expected = expected_parent_code(code)
    if parent_code:
        allowed = {expected}
        if actual == DivisionLevel.COUNTY:
            allowed.add(code[:2] + "0000")
        if parent_code not in allowed:
            raise ValidationError(
                _("Division %(code)s cannot have parent %(parent)s: the code must start with "
                  "its parent's code (%(expected)s)."),
                code="parent_prefix", params={"code": code, "parent": parent_code, "expected": expected},
            )
    needs_parent = actual in (DivisionLevel.STREET, DivisionLevel.COMMUNITY)
    if known is not None and needs_parent:
        parent = parent_code or expected
        if parent not in known:
            raise ValidationError(
                _("Division %(code)s: parent division %(parent)s is unknown; load it first."),
                code="unknown_parent", params={"code": code, "parent": parent},
            )
    return actual


def validate_unit_grid_code(code: str, community_code: str | None, *, length: int | None = None) -> int:
    """Validate a unit-grid code against its community; return the grid sequence number.

    ``community_code`` None means the community is unknown, which is an error.
    Uniqueness is checked by the loader, which sees every grid at once.
    """
    n = length or grid_code_length()
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        raise ValidationError(
            _("Unit grid code %(code)r must contain digits only."), code="digits", params={"code": code},
        )
    if len(code) != n:
        raise ValidationError(
            _("Unit grid code %(code)s has %(actual)d digits; this installation uses %(n)d "
              "(community code + %(seq)d-digit sequence; CJ/T 213 uses 14, GB/T 30428.1 uses 15)."),
            code="length", params={"code": code, "actual": len(code), "n": n, "seq": n - 12},
        )
    if community_code is None:
        raise ValidationError(
            _("Unit grid %(code)s: its community %(community)s is unknown; load divisions first."),
            code="unknown_community", params={"code": code, "community": code[:COMMUNITY_CODE_LENGTH]},
        )
    if code[:COMMUNITY_CODE_LENGTH] != community_code:
        raise ValidationError(
            _("Unit grid %(code)s must start with its community's code %(community)s."),
            code="community_prefix", params={"code": code, "community": community_code},
        )
    seq = int(code[COMMUNITY_CODE_LENGTH:])
    if seq == 0:
        raise ValidationError(
            _("Unit grid %(code)s: the grid sequence number must not be zero "
              "(a zero sequence denotes the whole community)."),
            code="sequence_zero", params={"code": code},
        )
    return seq


def format_unit_grid_code(community_code: str, seq: int, *, length: int | None = None) -> str:
    """Build a unit-grid code from a community code and a 1-based sequence number."""
    n = length or grid_code_length()
    digits = n - COMMUNITY_CODE_LENGTH
    if not 1 <= seq < 10**digits:
        raise ValueError(f"grid sequence {seq} does not fit in {digits} digits")
    return f"{community_code}{seq:0{digits}d}"
