from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from urbangrid.geo.codes import (
    division_level,
    format_unit_grid_code,
    street_kind,
    validate_division_code,
    validate_unit_grid_code,
)

KNOWN = {"330000", "330400", "330483", "330483001", "330483101"}


@pytest.mark.parametrize(("code", "level"), [
    ("330000", "province"), ("330400", "city"), ("330483", "county"),
    ("330483001", "street"), ("330483001005", "community"),
])
def test_division_levels(code, level):
    assert division_level(code) == level
    assert validate_division_code(code, known=KNOWN) == level


@pytest.mark.parametrize(("code", "kind"), [
    ("330483001", "street"), ("330483101", "town"), ("330483201", "township"), ("330483401", "farm"),
])
def test_street_kinds_follow_gbt_10114(code, kind):
    assert street_kind(code) == kind


def test_parent_must_be_prefix():
    assert validate_division_code("330483001", "330483", known=KNOWN) == "street"
    assert validate_division_code("330483", "330400") == "county"
    with pytest.raises(ValidationError, match="must start with its parent's code"):
        validate_division_code("330483001", "330482", known=KNOWN)


@pytest.mark.parametrize(("code", "parent", "message"), [
    ("33048300A", None, "digits only"),
    ("3304830011", None, "has 10 digits"),
    ("330483600", None, "outside the GB/T 10114 ranges"),
    ("330483000", None, "outside the GB/T 10114 ranges"),
    ("330483001000", None, "must not be 000"),
    ("330483002001", None, "parent division 330483002 is unknown"),
    ("330484001", None, "parent division 330484 is unknown"),
    ("330483001", "330400", "must start with its parent's code"),
])
def test_bad_division_codes(code, parent, message):
    with pytest.raises(ValidationError, match=message):
        validate_division_code(code, parent, known=KNOWN)


def test_level_mismatch():
    with pytest.raises(ValidationError, match="is a street / township code, not a community / village code"):
        validate_division_code("330483001", level="community")


def test_unit_grid_code_14_digits():
    assert validate_unit_grid_code("33048300100507", "330483001005") == 7
    assert format_unit_grid_code("330483001005", 7) == "33048300100507"


@pytest.mark.parametrize(("code", "community", "message"), [
    ("3304830010050A", "330483001005", "digits only"),
    ("330483001005007", "330483001005", "has 15 digits; this installation uses 14"),
    ("33048300100607", "330483001005", "must start with its community's code 330483001005"),
    ("33048300100500", "330483001005", "must not be zero"),
    ("33048300100507", None, "community 330483001005 is unknown"),
])
def test_bad_unit_grid_codes(code, community, message):
    with pytest.raises(ValidationError, match=message):
        validate_unit_grid_code(code, community)


def test_unit_grid_code_15_digits_when_configured(settings):
    settings.URBANGRID = {**settings.URBANGRID, "GRID_CODE_LENGTH": 15}
    assert validate_unit_grid_code("330483001005007", "330483001005") == 7
    with pytest.raises(ValidationError, match="this installation uses 15"):
        validate_unit_grid_code("33048300100507", "330483001005")
    assert format_unit_grid_code("330483001005", 123) == "330483001005123"
