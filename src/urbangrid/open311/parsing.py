"""Parsing numbers and dates from the public, strictly: ASCII digits only, bounded values.

`str.isdigit()` and `int()` accept far more than ASCII digits ("²" is a digit for
`isdigit()` but not for `int()`, full-width "１２" is accepted by `int()`), and unbounded
values overflow database integers and `datetime` arithmetic. Every number and date taken
from a query string, a form or a URL in the Open311 and portal apps goes through here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

#: Longest text parsed as a number (int() of long strings is slow, and nothing we accept
#: needs more than a bigint's 19 digits plus a few leading zeros).
MAX_NUMBER_LENGTH = 32
#: The largest database id (signed 64-bit).
MAX_ID = 2**63 - 1
#: Date-times outside these bounds are refused (datetime arithmetic near year 1 or 9999
#: overflows, and nothing here happened before 1900 or will be reported after 2999).
MIN_DATETIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(3000, 1, 1, tzinfo=UTC)

_INTEGER = re.compile(r"[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
# W3C-DTF date-times (https://www.w3.org/TR/NOTE-datetime): minutes required, seconds and
# fraction optional, zone required.
_W3C = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2})(:[0-9]{2})?(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})", re.ASCII
)
# a "+" of the zone sent unencoded in a query string arrives as a space
_SPACE_ZONE = re.compile(r"(\S{16}(?::[0-9]{2})?(?:\.[0-9]{1,9})?) ([0-9]{2}:[0-9]{2})", re.ASCII)


def parse_int(text: str | None, low: int = 0, high: int = MAX_ID) -> int | None:
    """The whole number written in ASCII digits in `text` (surrounding blanks ignored) if it
    lies in [low, high]; None otherwise (empty, signs, other digits, too long, out of range)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_NUMBER_LENGTH or not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_decimal(text: str | None) -> float | None:
    """A decimal number in plain ASCII notation (optional sign, no exponent, no "nan" or
    "inf", no "_"), or None."""
    text = (text or "").strip()
    if not text or len(text) > MAX_NUMBER_LENGTH or not _DECIMAL.fullmatch(text):
        return None
    return float(text)


def is_decimal(text: str) -> bool:
    return bool(text) and len(text) <= 64 and bool(_DECIMAL.fullmatch(text))


def parse_w3c(value: str | None, *, bounded: bool = True) -> datetime | None:
    """A W3C date-time with zone ("2026-11-28T04:10Z", "2026-11-28T04:10:05.5+08:00"), or None
    when malformed. With `bounded` (the default), also None outside 1900–2999 (see
    `in_range`). A "+" decoded to a space in a query string is repaired."""
    text = _SPACE_ZONE.sub(r"\1+\2", (value or "").strip()) if value and " " in value else (value or "").strip()
    m = _W3C.fullmatch(text)
    if not m:
        return None
    minutes, seconds, fraction, zone = m.groups()
    iso = minutes + (seconds or ":00") + (fraction[:7] if fraction else "") + ("+00:00" if zone == "Z" else zone)
    try:
        result = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if bounded and not in_range(result):
        return None
    return result


def in_range(value: datetime) -> bool:
    """Whether an aware date-time lies within the supported years (1900–2999)."""
    try:
        return MIN_DATETIME <= value < MAX_DATETIME
    except OverflowError:  # pragma: no cover - comparing extreme offsets
        return False
