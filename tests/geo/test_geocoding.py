from __future__ import annotations

import pytest

from urbangrid.geo.geocoding import GeocodeError, geocode
from urbangrid.geo.models import AdminDivision, Place, PlaceKind

pytestmark = pytest.mark.django_db


def _plate(number: int = 21) -> Place:
    return (Place.objects.select_related("street")
            .filter(kind=PlaceKind.DOOR_PLATE, number=str(number)).exclude(road="人民路").order_by("road").first())


def test_exact_door_plate_with_and_without_prefixes(small_demo):
    plate = _plate()
    street = plate.street.name
    for text in (f"{plate.road}{plate.number}号", f"{street}{plate.road}{plate.number}号",
                 f"浙江省嘉兴市桐乡市{street}{plate.road}{plate.number}号旁边", f" {plate.road} {plate.number}号 附近"):
        best = geocode(text)[0]
        assert (best.place_id, best.kind) == (plate.pk, "door_plate"), text
        assert best.label == f"{street}{plate.road}{plate.number}号"
        assert best.grid is not None and best.grid.street_name == street
    assert geocode(f"{street}{plate.road}{plate.number}号")[0].score > geocode(f"{plate.road}{plate.number}号")[0].score


def test_missing_number_falls_back_to_nearest_plates(small_demo):
    plate = _plate(41)
    below = Place.objects.get(kind=PlaceKind.DOOR_PLATE, road=plate.road, number="39", street=plate.street)
    above = Place.objects.get(kind=PlaceKind.DOOR_PLATE, road=plate.road, number="43", street=plate.street)
    exact_score = geocode(f"{plate.road}41号")[0].score
    plate.delete()  # the signal refreshes the gazetteer
    best = geocode(f"{plate.road}41号")[0]
    assert best.kind == "interpolated" and best.place_id is None and best.score < exact_score
    assert min(below.lon, above.lon) <= best.lon <= max(below.lon, above.lon)
    assert min(below.lat, above.lat) <= best.lat <= max(below.lat, above.lat)
    assert "(estimated)" in best.label


def test_same_road_name_in_two_streets_is_ranked_by_street(small_demo):
    both = geocode("人民路5号")
    assert [c.kind for c in both[:2]] == ["door_plate", "door_plate"]
    assert {c.grid.street_name for c in both[:2]} == {"梧桐街道", "濮院镇"}
    assert both[0].score == both[1].score
    first = geocode("濮院镇人民路5号")
    assert first[0].grid.street_name == "濮院镇" and first[0].score > first[1].score
    assert first[1].grid.street_name == "梧桐街道"


def test_road_without_number(small_demo):
    road = Place.objects.filter(kind=PlaceKind.ROAD).exclude(name="人民路").first()
    candidates = geocode(road.name)
    assert candidates and all(c.kind == "road" for c in candidates)
    assert road.pk in {c.place_id for c in candidates}


def test_landmarks_by_name_alias_and_part(small_demo):
    assert geocode("人民公园")[0].label == "人民公园"
    assert geocode("一医院")[0].label == "桐乡市人民医院"
    assert geocode("梧桐街道办事处")[0].label == "梧桐街道办事处"
    best = geocode("羊毛衫市场")[0]
    assert best.label == "濮院羊毛衫市场" and best.grid.street_name == "濮院镇"
    assert len(geocode("公园", limit=3)) == 3


def test_no_match_and_empty_text(small_demo):
    with pytest.raises(GeocodeError, match="No address or place matches '火星基地'"):
        geocode("火星基地")
    with pytest.raises(GeocodeError, match="Enter an address"):
        geocode("  ，")


def test_gazetteer_follows_changes(small_demo):
    with pytest.raises(GeocodeError):
        geocode("星空观测站")
    street = AdminDivision.objects.get(code="330483001")
    Place.objects.create(kind=PlaceKind.LANDMARK, name="星空观测站", lon=120.55, lat=30.63, street=street)
    assert geocode("星空观测站")[0].label == "星空观测站"
