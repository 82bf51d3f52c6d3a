"""Component identifiers (部件标识码): structure, validation and allocation.

CJ/T 214-2007: 16 digits = 6-digit county code (GB/T 2260) + 4-digit class code + 6-digit
sequence number. GB/T 47678.5-2026: 17 digits = 6 + 5 + 6. The length in use comes from
``settings.URBANGRID["COMPONENT_ID_LENGTH"]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from urbangrid.geo.models import AdminDivision, DivisionLevel

from .models import Category, CategoryKind, Component, ComponentSequence

ADMIN_CODE_LENGTH = 6
SEQUENCE_LENGTH = 6
MAX_SEQUENCE = 10**SEQUENCE_LENGTH - 1


def component_id_length() -> int:
    """Identifier length configured for this installation (16 or 17)."""
    return int(settings.URBANGRID["COMPONENT_ID_LENGTH"])


def class_code_length() -> int:
    """Length of the class-code part of an identifier (4 for CJ/T 214, 5 for GB/T 47678.5)."""
    return component_id_length() - ADMIN_CODE_LENGTH - SEQUENCE_LENGTH


def jurisdiction_code() -> str:
    return str(settings.URBANGRID["JURISDICTION_CODE"])


@dataclass(frozen=True)
class ComponentId:
    """The three parts of a component identifier."""

    admin_code: str
    class_code: str
    sequence: int

    def __str__(self) -> str:
        return f"{self.admin_code}{self.class_code}{self.sequence:0{SEQUENCE_LENGTH}d}"


def format_component_id(admin_code: str, class_code: str, sequence: int) -> str:
    return str(ComponentId(admin_code, class_code, sequence))


def parse_component_id(value: str) -> ComponentId:
    """Split an identifier into its parts, checking only its shape (digits, length, sequence)."""
    value = (value or "").strip()
    length = component_id_length()
    if not value.isascii() or not value.isdigit():
        raise ValidationError(
            _("Identifier %(value)s must contain digits only.") % {"value": value}, code="digits",
        )
    if len(value) != length:
        raise ValidationError(
            _("Identifier %(value)s has %(actual)d digits; %(length)d are required.")
            % {"value": value, "actual": len(value), "length": length},
            code="length",
        )
    split = length - SEQUENCE_LENGTH
    parsed = ComponentId(value[:ADMIN_CODE_LENGTH], value[ADMIN_CODE_LENGTH:split], int(value[split:]))
    if parsed.sequence == 0:
        raise ValidationError(
            _("Identifier %(value)s has sequence number 000000; numbering starts at 000001.")
            % {"value": value},
            code="sequence",
        )
    return parsed


class ComponentIdValidator:
    """Validates identifiers against the dictionary and the jurisdiction.

    Loads the component class codes and county codes once, so one instance can check many
    identifiers (imports) without a query per row.
    """

    def __init__(self) -> None:
        self.class_codes: frozenset[str] = frozenset(
            Category.objects.filter(kind=CategoryKind.COMPONENT, parent__isnull=False)
            .values_list("code", flat=True)
        )
        self.event_codes: frozenset[str] = frozenset(
            Category.objects.filter(kind=CategoryKind.EVENT, parent__isnull=False)
            .values_list("code", flat=True)
        )
        counties = AdminDivision.objects.filter(level=DivisionLevel.COUNTY).values_list("code", flat=True)
        self.county_codes: frozenset[str] = frozenset([jurisdiction_code(), *counties])

    def __call__(self, value: str) -> ComponentId:
        parsed = parse_component_id(value)
        if parsed.admin_code not in self.county_codes:
            raise ValidationError(
                _("Identifier %(value)s starts with county code %(code)s, which is not this "
                  "jurisdiction (%(jurisdiction)s) nor a known county.")
                % {"value": value, "code": parsed.admin_code, "jurisdiction": jurisdiction_code()},
                code="county",
            )
        if parsed.class_code not in self.class_codes:
            if parsed.class_code in self.event_codes:
                message = _("Identifier %(value)s uses class code %(code)s, which is an event "
                            "class, not a component class.")
            else:
                message = _("Identifier %(value)s uses class code %(code)s, which is not a "
                            "component class of the dictionary.")
            raise ValidationError(message % {"value": value, "code": parsed.class_code}, code="class")
        return parsed

    def county_for(self, division_code: str) -> str:
        """County code for a street or community code, falling back to the jurisdiction."""
        prefix = (division_code or "")[:ADMIN_CODE_LENGTH]
        return prefix if prefix in self.county_codes else jurisdiction_code()


def validate_component_id(value: str) -> ComponentId:
    """Validate one identifier completely; raises ValidationError with a readable message."""
    return ComponentIdValidator()(value)


def _class_code_of(category: Category | str) -> str:
    if isinstance(category, str):
        code = category
        if not Category.objects.filter(
            kind=CategoryKind.COMPONENT, parent__isnull=False, code=code,
        ).exists():
            raise ValidationError(
                _("%(code)s is not a component class of the dictionary.") % {"code": code},
                code="class",
            )
    else:
        if category.kind != CategoryKind.COMPONENT or not category.is_minor:
            raise ValidationError(
                _("%(category)s is not a component minor class.") % {"category": category},
                code="class",
            )
        code = category.code
    if len(code) != class_code_length():
        raise ValidationError(
            _("Class code %(code)s does not have the %(length)d digits identifiers need.")
            % {"code": code, "length": class_code_length()},
            code="class",
        )
    return code


def _highest_used(admin_code: str, class_code: str) -> int:
    prefix = f"{admin_code}{class_code}"
    highest = (
        Component.objects.annotate(id_length=Length("obj_id"))
        .filter(obj_id__startswith=prefix, id_length=component_id_length())
        .aggregate(m=Max("obj_id"))["m"]
    )
    return int(highest[-SEQUENCE_LENGTH:]) if highest else 0


def next_component_ids(admin_code: str, category: Category | str, count: int) -> list[str]:
    """Allocate ``count`` new identifiers for a county and a component class.

    The per-(county, class) counter is locked for the transaction and only moves forward;
    a new counter starts after the highest identifier already in the inventory.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if len(admin_code) != ADMIN_CODE_LENGTH or not admin_code.isdigit():
        raise ValidationError(
            _("County code %(code)s must have 6 digits.") % {"code": admin_code}, code="county",
        )
    class_code = _class_code_of(category)
    if count == 0:
        return []
    with transaction.atomic():
        counter, _created = ComponentSequence.objects.get_or_create(
            admin_code=admin_code, class_code=class_code,
            defaults={"last": _highest_used(admin_code, class_code)},
        )
        counter = ComponentSequence.objects.select_for_update().get(pk=counter.pk)
        first = counter.last + 1
        counter.last += count
        if counter.last > MAX_SEQUENCE:
            raise ValidationError(
                _("No identifiers left for class %(code)s in county %(county)s.")
                % {"code": class_code, "county": admin_code},
                code="exhausted",
            )
        counter.save(update_fields=["last"])
    return [format_component_id(admin_code, class_code, n) for n in range(first, counter.last + 1)]


def note_used_ids(ids: Iterable[ComponentId]) -> None:
    """Move counters past identifiers that were assigned outside the allocator (imports)."""
    highest: dict[tuple[str, str], int] = {}
    for parsed in ids:
        key = (parsed.admin_code, parsed.class_code)
        highest[key] = max(highest.get(key, 0), parsed.sequence)
    with transaction.atomic():
        for (admin_code, class_code), sequence in highest.items():
            counter, _created = ComponentSequence.objects.get_or_create(
                admin_code=admin_code, class_code=class_code,
                defaults={"last": _highest_used(admin_code, class_code)},
            )
            ComponentSequence.objects.filter(pk=counter.pk, last__lt=sequence).update(last=sequence)
