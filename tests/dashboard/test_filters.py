"""The case-filter parameters the dashboard's links add: street, community, self_handled and
reported_by."""

import pytest

from urbangrid.cases.filters import CaseFilter, filter_cases
from urbangrid.workflow.errors import Invalid

from .conftest import at
from .test_dashboard import op, report


def test_street_community_self_handled_reported_by(world):
    a = report(world, at(2))
    b = report(world, at(3), category=world.flyer, by=world.collector2, i=2)
    op(b, "self_fix", world.collector2, at(3, 11), photos=[world.photo(world.collector2)])
    u = world.leader
    assert set(filter_cases(u, {"street": "330483001"})) == {a, b}
    assert set(filter_cases(u, {"community": "330483001001"})) == {a, b}
    assert set(filter_cases(u, {"self_handled": "1"})) == {b}
    assert set(filter_cases(u, {"self_handled": "0"})) == {a}
    assert set(filter_cases(u, {"self_handled": ""})) == {a, b}
    assert set(filter_cases(u, {"reported_by": str(world.collector.pk)})) == {a}
    assert set(filter_cases(u, {"reported_by": world.collector2.pk})) == {b}


@pytest.mark.parametrize(
    "params",
    [
        {"street": "330483001001"},  # a community's code is not a street
        {"street": "999"},
        {"community": "330483001"},
        {"self_handled": "maybe"},
        {"reported_by": "x"},
        {"reported_by": "０１"},
    ],
)
def test_bad_values(world, params):
    with pytest.raises(Invalid) as exc:
        CaseFilter.parse(params)
    assert set(exc.value.fields) == set(params)
