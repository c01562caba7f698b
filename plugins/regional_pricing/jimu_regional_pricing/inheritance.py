"""Which price parameter applies to a line: pure functions over an in-memory snapshot.

Most specific first: a geofence zone containing the line's location (the smaller polygon
first when geofences overlap, then by code), the district, the city, the province, then the
group zones containing a code of the line's region path (the zone matching the deeper code
first, then by code). Each parameter is taken separately from the first of these that sets
it, so a value left empty at the city is inherited from the province. Two group zones that
share a code may not set different values for the same currency and period (refused when
saved: see :func:`group_conflicts`), so the answer never depends on the order of codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from jimu_regional_pricing.geometry import Point, area, bounding_box, contains

FIELDS = ("labour_rate", "adjust_pct")
"""The parameters a target can set; ``adjust_pct`` is stored as ``price_adjust_pct``."""


@dataclass(frozen=True, slots=True)
class ParamRow:
    id: int
    target: str
    target_kind: str  # region | zone
    adjust_pct: Decimal | None
    labour_rate: Decimal | None
    currency: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    def value(self, name: str) -> Decimal | None:
        return self.labour_rate if name == "labour_rate" else self.adjust_pct

    def covers(self, day: dt.date, currency: str) -> bool:
        return (self.currency == currency
                and (self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day <= self.valid_to))

    def overlaps(self, other: ParamRow) -> bool:
        """Same currency and validity periods sharing at least one day."""
        if self.currency != other.currency:
            return False
        start = max(self.valid_from or dt.date.min, other.valid_from or dt.date.min)
        end = min(self.valid_to or dt.date.max, other.valid_to or dt.date.max)
        return start <= end


@dataclass(frozen=True, slots=True)
class ZoneRow:
    code: str
    name: str
    kind: str  # group | geofence
    region_codes: frozenset[str] = frozenset()
    polygon: tuple[Point, ...] = ()
    bbox: tuple[Decimal, Decimal, Decimal, Decimal] | None = None
    area: Decimal = Decimal(0)

    @classmethod
    def build(cls, code: str, name: str, kind: str, region_codes: Iterable[str] = (),
              polygon: Sequence[Point] = ()) -> ZoneRow:
        ring = tuple(polygon)
        return cls(code=code, name=name, kind=kind, region_codes=frozenset(region_codes),
                   polygon=ring, bbox=bounding_box(ring) if ring else None,
                   area=area(ring) if ring else Decimal(0))

    def contains_point(self, p: Point) -> bool:
        if self.kind != "geofence" or self.bbox is None:
            return False
        lo_lng, lo_lat, hi_lng, hi_lat = self.bbox
        if not (lo_lng <= p[0] <= hi_lng and lo_lat <= p[1] <= hi_lat):
            return False
        return contains(self.polygon, p)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A tenant's zones, parameters and store locations, as pricing reads them."""

    zones: Mapping[str, ZoneRow]
    params: Mapping[str, tuple[ParamRow, ...]]  # by target
    group_index: Mapping[str, tuple[str, ...]]  # region code -> group zone codes
    geofences: tuple[ZoneRow, ...]  # smaller area first, then code
    locations: Mapping[int, Point]  # partner id -> store location

    @classmethod
    def build(cls, zones: Iterable[ZoneRow], params: Iterable[ParamRow],
              locations: Mapping[int, Point]) -> Snapshot:
        by_code = {z.code: z for z in zones}
        by_target: dict[str, list[ParamRow]] = {}
        for row in params:
            by_target.setdefault(row.target, []).append(row)
        index: dict[str, list[str]] = {}
        for zone in sorted(by_code.values(), key=lambda z: z.code):
            if zone.kind == "group":
                for code in zone.region_codes:
                    index.setdefault(code, []).append(zone.code)
        fences = tuple(sorted((z for z in by_code.values() if z.kind == "geofence"),
                              key=lambda z: (z.area, z.code)))
        return cls(zones=by_code,
                   params={k: tuple(sorted(v, key=lambda r: r.id)) for k, v in by_target.items()},
                   group_index={k: tuple(v) for k, v in index.items()}, geofences=fences,
                   locations=dict(locations))

    def row_for(self, target: str, day: dt.date, currency: str) -> ParamRow | None:
        for row in self.params.get(target, ()):
            if row.covers(day, currency):
                return row  # periods of one target never overlap (checked when saved)
        return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A target that could give the line a parameter, and its level (geofence, district,
    city, province, group)."""

    target: str
    level: str
    row: ParamRow | None


@dataclass(frozen=True, slots=True)
class Resolution:
    zones: tuple[str, ...]
    candidates: tuple[Candidate, ...]  # most specific first
    values: Mapping[str, tuple[Decimal, Candidate] | None] = field(default_factory=dict)

    def value(self, name: str) -> Decimal | None:
        found = self.values.get(name)
        return found[0] if found else None

    def source(self, name: str) -> Candidate | None:
        found = self.values.get(name)
        return found[1] if found else None


def resolve(snapshot: Snapshot, path: Sequence[str], levels: Sequence[str],
            location: Point | None, day: dt.date, currency: str) -> Resolution:
    """The effective parameters of a line in region ``path`` (province first, with the level
    of each code in ``levels``) at ``location``, priced on ``day`` in ``currency``."""
    candidates: list[Candidate] = []
    zones: list[str] = []
    if location is not None:
        for fence in snapshot.geofences:
            if fence.contains_point(location):
                zones.append(fence.code)
                candidates.append(Candidate(fence.code, "geofence",
                                            snapshot.row_for(fence.code, day, currency)))
    for code, level in reversed(list(zip(path, levels, strict=True))):
        candidates.append(Candidate(code, level, snapshot.row_for(code, day, currency)))
    for code in reversed(path):
        for zone_code in snapshot.group_index.get(code, ()):
            if zone_code not in zones:
                zones.append(zone_code)
                candidates.append(Candidate(zone_code, "group",
                                            snapshot.row_for(zone_code, day, currency)))
    values: dict[str, tuple[Decimal, Candidate] | None] = {}
    for name in FIELDS:
        values[name] = None
        for candidate in candidates:
            if candidate.row is not None and candidate.row.value(name) is not None:
                values[name] = (candidate.row.value(name), candidate)  # type: ignore[assignment]
                break
    return Resolution(zones=tuple(zones), candidates=tuple(candidates), values=values)


@dataclass(frozen=True, slots=True)
class GroupConflict:
    parameter: str
    first: str
    second: str
    code: str


def group_conflicts(zones: Iterable[ZoneRow], params: Iterable[ParamRow]
                    ) -> list[GroupConflict]:
    """Pairs of group zones that share a region code and set different values of the same
    parameter for the same currency in overlapping periods: the line in that region would
    have two answers at the same level."""
    groups = sorted((z for z in zones if z.kind == "group"), key=lambda z: z.code)
    by_target: dict[str, list[ParamRow]] = {}
    for row in params:
        by_target.setdefault(row.target, []).append(row)
    found: list[GroupConflict] = []
    for i, first in enumerate(groups):
        for second in groups[i + 1:]:
            shared = first.region_codes & second.region_codes
            if not shared:
                continue
            for name in FIELDS:
                clash = any(a.overlaps(b) and a.value(name) is not None
                            and b.value(name) is not None and a.value(name) != b.value(name)
                            for a in by_target.get(first.code, ())
                            for b in by_target.get(second.code, ()))
                if clash:
                    found.append(GroupConflict(name, first.code, second.code, min(shared)))
    return found
