from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from urbangrid.catalog.codes import ComponentId, next_component_ids, validate_component_id
from urbangrid.catalog.models import Category, CategoryKind, Component
from urbangrid.geo.models import AdminDivision, DivisionLevel


def component_class(code: str) -> Category:
    return Category.objects.get(kind=CategoryKind.COMPONENT, code=code)


def test_valid_identifier(categories):
    assert validate_component_id("3304020102000123") == ComponentId("330402", "0102", 123)
    assert str(ComponentId("330402", "0102", 123)) == "3304020102000123"


@pytest.mark.parametrize(("value", "message"), [
    ("330402010200012", "Identifier 330402010200012 has 15 digits; 16 are required."),
    ("33040201020001234", "Identifier 33040201020001234 has 17 digits; 16 are required."),
    ("33040201020001A3", "Identifier 33040201020001A3 must contain digits only."),
    ("３３０４０２０１０２０００１２３", "must contain digits only."),
    ("3304029999000001", "uses class code 9999, which is not a component class of the dictionary."),
    ("3304020513000001", "uses class code 0513, which is an event class, not a component class."),
    ("1101010102000001", "starts with county code 110101, which is not this jurisdiction (330402)"),
    ("3304020102000000", "has sequence number 000000; numbering starts at 000001."),
])
def test_invalid_identifiers(categories, value, message):
    with pytest.raises(ValidationError) as caught:
        validate_component_id(value)
    assert message in caught.value.messages[0]


def test_other_known_county_is_accepted(categories):
    AdminDivision.objects.create(code="110101", name="东城区", level=DivisionLevel.COUNTY)
    assert validate_component_id("1101010102000001").admin_code == "110101"


def test_seventeen_digit_profile(categories, settings):
    settings.URBANGRID = {**settings.URBANGRID, "COMPONENT_ID_LENGTH": 17}
    with pytest.raises(ValidationError, match="16 digits; 17 are required"):
        validate_component_id("3304020102000123")
    with pytest.raises(ValidationError, match="which is not a component class"):
        validate_component_id("33040201002000123")  # no 5-digit classes loaded


def test_sequence_numbers_are_never_reused(categories):
    cover = component_class("0102")
    first = next_component_ids("330402", cover, 3)
    assert first == ["3304020102000001", "3304020102000002", "3304020102000003"]
    made = [Component.objects.create(obj_id=i, category=cover, lon=120.75, lat=30.75) for i in first]
    made[-1].delete()
    assert next_component_ids("330402", cover, 1) == ["3304020102000004"]
    assert next_component_ids("330402", "0101", 2) == ["3304020101000001", "3304020101000002"]
    assert next_component_ids("330402", cover, 0) == []


def test_new_counter_starts_after_existing_identifiers(categories):
    lamp = component_class("0118")
    Component.objects.create(obj_id="3304020118000050", category=lamp, lon=120.75, lat=30.75)
    assert next_component_ids("330402", lamp, 1) == ["3304020118000051"]


def test_event_class_cannot_get_identifiers(categories):
    event = Category.objects.get(kind=CategoryKind.EVENT, code="0513")
    with pytest.raises(ValidationError, match="not a component minor class"):
        next_component_ids("330402", event, 1)
    with pytest.raises(ValidationError, match="not a component class"):
        next_component_ids("330402", "0513", 1)
    with pytest.raises(ValidationError, match="must have 6 digits"):
        next_component_ids("3304", "0101", 1)
