"""Geocoding (地理编码, CJ/T 215): free Chinese address text to ranked positions.

Understands texts such as ``梧桐街道庆丰路128号``, ``桐乡市梧桐街道庆丰路128号旁``,
``庆丰路128号``, ``庆丰路`` and landmark names or aliases (``人民公园``). Matching order:

1. exact door plate (门牌) on the named road;
2. otherwise the same road's nearest door numbers (position interpolated between the two
   neighbouring plates with the same parity), with a lower score;
3. the road itself (one entry per street it runs through);
4. landmarks (地标) by name or alias.

A street or community named in the text ranks candidates inside it higher. The index is
built in memory from :class:`~urbangrid.geo.models.Place` rows and rebuilt when the
gazetteer changes (signals, and the shared revision counter for other processes).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from urbangrid.core.cache import ProcessCache

from .index import CHECK_SECONDS, GridLocation, get_index


class GeocodeError(ValueError):
    """Nothing in the gazetteer matches the text."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One geocoding answer; ``score`` from 0 to 1, ``kind`` as in PlaceKind or ``interpolated``."""

    place_id: int | None
    label: str
    lon: float
    lat: float
    score: float
    kind: str
    grid: GridLocation | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    place_id: int
    name: str
    kind: str
    road: str
    number: int | None
    lon: float
    lat: float
    street_id: int | None
    community_id: int | None
    aliases: tuple[str, ...] = ()


_DESCRIPTORS = re.compile(r"(旁边|旁|附近|对面|门口|门前|周边|一带|东侧|西侧|南侧|北侧|路口|处|边上)+$")
_PUNCTUATION = re.compile(r"[\s,，。.、;；:：()（）\[\]【】\"'“”‘’]+")
_NUMBER = re.compile(r"^(\d+)(?:[-－之]\d+)?号?")
_SCORE = {"door_plate": 0.95, "interpolated": 0.8, "road": 0.7}


def _normalize(text: str) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text or ""))


def _number(value: str) -> int | None:
    m = re.match(r"\d+", value or "")
    return int(m.group()) if m else None


class Gazetteer:
    """The in-memory geocoding index."""

    def __init__(self, entries: list[_Entry], divisions: list[tuple[int, str, str]], revision: int | None = None):
        self.revision = revision
        self.plates: dict[tuple[str, int | None], list[_Entry]] = defaultdict(list)
        self.exact: dict[tuple[str, int], list[_Entry]] = defaultdict(list)
        self.roads: dict[str, list[_Entry]] = defaultdict(list)
        self.landmarks: list[_Entry] = []
        self.street_names: dict[int, str] = {}
        self.divisions = sorted(divisions, key=lambda d: -len(d[2]))  # (pk, level, name), longest first
        for pk, level, name in divisions:
            if level == "street":
                self.street_names[pk] = name
        for e in entries:
            if e.kind == "door_plate" and e.number is not None:
                self.plates[(e.road, e.street_id)].append(e)
                self.exact[(e.road, e.number)].append(e)
            elif e.kind == "road":
                self.roads[e.name].append(e)
            elif e.kind == "landmark":
                self.landmarks.append(e)
        for plates in self.plates.values():
            plates.sort(key=lambda e: e.number)
        self.road_names = sorted({road for road, _street in self.plates} | set(self.roads), key=len, reverse=True)

    @classmethod
    def from_db(cls) -> Gazetteer:
        from .models import AdminDivision, GridRevision, Place

        revision = GridRevision.current()[1]
        entries = [
            _Entry(
                pk,
                name,
                kind,
                road,
                _number(number),
                lon,
                lat,
                street_id,
                community_id,
                tuple(a for a in (_normalize(x) for x in re.split(r"[,，;；、]", aliases or "")) if a),
            )
            for pk, kind, name, road, number, aliases, lon, lat, street_id, community_id in Place.objects.values_list(
                "pk",
                "kind",
                "name",
                "road",
                "number",
                "aliases",
                "lon",
                "lat",
                "street_id",
                "community_id",
            )
        ]
        return cls(entries, list(AdminDivision.objects.values_list("pk", "level", "name")), revision)

    # --- parsing and matching -----------------------------------------------------------

    def _parse(self, text: str) -> tuple[str, dict[str, int], str | None, int | None]:
        """(rest of text, {level: division pk} named in it, road, door number)."""
        rest = text
        named: dict[str, int] = {}
        for pk, level, name in self.divisions:
            if level not in named and name and name in rest:
                named[level] = pk
                rest = rest.replace(name, "", 1)
        road = next((r for r in self.road_names if r in rest), None)
        number = None
        if road:
            m = _NUMBER.match(rest[rest.index(road) + len(road) :])
            number = int(m.group(1)) if m else None
        return rest, named, road, number

    def _label(self, e: _Entry, text: str) -> str:
        return f"{self.street_names.get(e.street_id, '')}{text}"

    def _candidate(self, e: _Entry, score: float, kind: str, label: str | None = None) -> Candidate:
        return Candidate(
            place_id=e.place_id, label=label or self._label(e, e.name), lon=e.lon, lat=e.lat, score=score, kind=kind
        )

    def _door_candidates(self, road: str, number: int) -> list[tuple[Candidate, _Entry]]:
        exact = self.exact.get((road, number), [])
        if exact:
            return [(self._candidate(e, _SCORE["door_plate"], "door_plate"), e) for e in exact]
        found = []
        for (name, _street), plates in self.plates.items():
            if name != road:
                continue
            same_side = [e for e in plates if e.number % 2 == number % 2] or plates
            numbers = [e.number for e in same_side]
            k = bisect_left(numbers, number)
            below, above = (same_side[k - 1] if k > 0 else None), (same_side[k] if k < len(same_side) else None)
            if below and above:
                t = (number - below.number) / ((above.number - below.number) or 1)
                lon, lat = below.lon + t * (above.lon - below.lon), below.lat + t * (above.lat - below.lat)
                near, gap = below, min(number - below.number, above.number - number)
            else:
                near = below or above
                lon, lat, gap = near.lon, near.lat, abs(near.number - number)
            score = _SCORE["interpolated"] - 0.3 * min(1.0, gap / 100.0)
            label = self._label(near, f"{road}{number}号") + " " + _("(estimated)")
            found.append((Candidate(None, label, lon, lat, score, "interpolated"), near))
        return found

    def _landmark_candidates(self, text: str, rest: str) -> list[tuple[Candidate, _Entry]]:
        """Landmarks by name (in the whole text) or alias (in the text without division names)."""
        found = []
        for e in self.landmarks:
            name, aliases = _normalize(e.name), e.aliases
            if name in (text, rest):
                score = 0.95
            elif text in aliases or rest in aliases:
                score = 0.9
            elif name in text:
                score = 0.85
            elif any(a in rest for a in aliases if len(a) >= 2):
                score = 0.75
            elif len(rest) >= 2 and rest in name:
                score = 0.4 + 0.4 * len(rest) / len(name)
            else:
                continue
            found.append((self._candidate(e, score, "landmark", e.name), e))
        return found

    def geocode(self, text: str, limit: int = 5) -> list[Candidate]:
        """Ranked candidates for ``text``; GeocodeError when nothing matches."""
        raw = _normalize(text)
        norm = _DESCRIPTORS.sub("", raw) or raw
        if not norm:
            raise GeocodeError(_("Enter an address or a place name."))
        rest, named, road, number = self._parse(norm)
        found: list[tuple[Candidate, _Entry]] = []
        if road and number is not None:
            found += self._door_candidates(road, number)
        elif road:
            found += [(self._candidate(e, _SCORE["road"], "road"), e) for e in self.roads.get(road, [])]
        found += self._landmark_candidates(norm, rest)
        if not found:
            raise GeocodeError(_("No address or place matches %(text)r.") % {"text": text})
        ranked: dict[tuple, Candidate] = {}
        for cand, e in found:
            score = cand.score
            if "street" in named:
                score = score + 0.05 if e.street_id == named["street"] else score * 0.7
            if "community" in named and e.community_id == named["community"]:
                score += 0.03
            key = (cand.place_id, cand.kind, cand.lon, cand.lat)
            if key not in ranked or ranked[key].score < score:
                ranked[key] = Candidate(
                    cand.place_id, cand.label, cand.lon, cand.lat, round(min(score, 1.0), 3), cand.kind
                )
        best = sorted(ranked.values(), key=lambda c: (-c.score, c.label))[: max(1, limit)]
        index = get_index()
        out = []
        for c in best:
            pos = index.locate_idx(c.lon, c.lat)
            out.append(
                Candidate(
                    c.place_id, c.label, c.lon, c.lat, c.score, c.kind, index.locations[pos] if pos >= 0 else None
                )
            )
        return out


def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer index (rebuilt when places or divisions change)."""
    return _gazetteer()


def _places_revision() -> int:
    from .models import GridRevision

    return GridRevision.current()[1]


_gazetteer = ProcessCache(
    "gazetteer", lambda: Gazetteer.from_db(), ttl=None, revision=_places_revision, check_every=CHECK_SECONDS
)


def invalidate_geocoder() -> None:
    """Drop this process's gazetteer index; the next query rebuilds it."""
    _gazetteer.clear()


def geocode(text: str, limit: int = 5) -> list[Candidate]:
    """Geocode free address text; see the module docstring. Raises GeocodeError."""
    return get_gazetteer().geocode(text, limit)
