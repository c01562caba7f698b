"""Regional pricing logic, free of HTTP: zones, price parameters, store locations, the
snapshot pricing reads, and the facts each priced line gets."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import N_, Conflict, NotFound, PriceContext, ValidationFailed, platform

from jimu_regional_pricing.geometry import Point, area
from jimu_regional_pricing.inheritance import (
    ParamRow,
    Resolution,
    Snapshot,
    ZoneRow,
    group_conflicts,
    resolve,
)
from jimu_regional_pricing.tables import Parameter, StoreLocation, Zone

CACHE = "regional_pricing.snapshot"
ZONE_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{0,31}$")
REGION_CODE = re.compile(r"^[0-9]{6}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
KINDS = ("group", "geofence")
MIN_PCT, MAX_PCT = Decimal(-90), Decimal(500)
MAX_RATE = Decimal(1_000_000)
MAX_POINTS = 500
STORED_FIELD = {"labour_rate": "labour_rate", "adjust_pct": "price_adjust_pct"}


def today() -> dt.date:
    return platform().now().astimezone(ZoneInfo(platform().timezone())).date()


def plain(value: Any) -> Any:
    """JSON-safe copy (Decimal and dates as text) for the audit log."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items() if k != "tenant_id"}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------- regions


def region_chain(code: str) -> list[Mapping[str, Any]]:
    """Province → … → ``code`` (code, name, level); empty for an unknown code."""
    return platform().region_path(code) if REGION_CODE.match(code or "") else []


def check_region(code: str, field: str) -> list[Mapping[str, Any]]:
    chain = region_chain(code)
    if not chain:
        raise ValidationFailed(N_("%(code)s is not a known region code"), field=field,
                               params={"code": code})
    return chain


def region_name(code: str) -> str:
    chain = region_chain(code)
    return str(chain[-1]["name"]) if chain else code


# ----------------------------------------------------------------------------- parsing


def decimal_of(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("%(value)s is not a number"), field=field,
                               params={"value": value}) from None
    if not number.is_finite():
        raise ValidationFailed(N_("%(value)s is not a number"), field=field,
                               params={"value": value})
    return number


def parse_region_codes(text: str) -> list[str]:
    """Region codes from a comma, space or 、 separated list."""
    return [c for c in re.split(r"[\s,，、;；]+", text or "") if c]


def parse_points(text: str) -> list[Point]:
    """Polygon points from JSON (``[[lng, lat], …]``) or one ``lng,lat`` per line."""
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            raw = json.loads(text, parse_float=str, parse_int=str)
        except ValueError:
            raise ValidationFailed(N_("the points are not valid JSON"), field="polygon") from None
        if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == 2
                                                for p in raw):
            raise ValidationFailed(N_("give the points as [[lng, lat], …]"), field="polygon")
        return [(decimal_of(p[0], "polygon"), decimal_of(p[1], "polygon")) for p in raw]
    points = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [p for p in re.split(r"[\s,，]+", line.strip()) if p]
        if not parts:
            continue
        if len(parts) != 2:
            raise ValidationFailed(N_("line %(line)s: write one point as lng,lat"),
                                   field="polygon", params={"line": number})
        points.append((decimal_of(parts[0], "polygon"), decimal_of(parts[1], "polygon")))
    return points


def check_point(lng: Decimal, lat: Decimal, field_lng: str, field_lat: str) -> None:
    if not Decimal(-180) <= lng <= Decimal(180):
        raise ValidationFailed(N_("longitude %(value)s is outside -180..180"),
                               field=field_lng, params={"value": lng})
    if not Decimal(-90) <= lat <= Decimal(90):
        raise ValidationFailed(N_("latitude %(value)s is outside -90..90"),
                               field=field_lat, params={"value": lat})


def check_polygon(points: Sequence[Point]) -> list[Point]:
    ring = [(Decimal(lng), Decimal(lat)) for lng, lat in points]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring = ring[:-1]  # a closed ring repeats its first point
    if len(ring) > MAX_POINTS:
        raise ValidationFailed(N_("a geofence has at most %(max)s points"), field="polygon",
                               params={"max": MAX_POINTS})
    for index, (lng, lat) in enumerate(ring):
        check_point(lng, lat, f"polygon[{index}].lng", f"polygon[{index}].lat")
    if len(set(ring)) < 3:
        raise ValidationFailed(N_("a geofence needs at least 3 distinct points"),
                               field="polygon")
    if area(ring) == 0:
        raise ValidationFailed(N_("the points of the geofence lie on one line"),
                               field="polygon")
    return ring


# ----------------------------------------------------------------------------- snapshot


def _zone_row(row: Mapping[str, Any]) -> ZoneRow:
    polygon = [(Decimal(lng), Decimal(lat)) for lng, lat in row["polygon"] or []]
    return ZoneRow.build(row["code"], row["name"], row["kind"], row["region_codes"] or [],
                         polygon)


def stored_decimal(value: Any) -> Decimal | None:
    """A stored number without the column's scale: PostgreSQL answers ``115.0000`` where
    SQLite answers ``115``; both read back as ``115`` (and ``1.5000`` as ``1.5``)."""
    if value is None:
        return None
    number = Decimal(value)
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else (
        number.normalize())


def _param_row(row: Mapping[str, Any]) -> ParamRow:
    dec = stored_decimal

    return ParamRow(id=row["id"], target=row["target"], target_kind=row["target_kind"],
                    adjust_pct=dec(row["price_adjust_pct"]), labour_rate=dec(row["labour_rate"]),
                    currency=row["currency"], valid_from=row["valid_from"],
                    valid_to=row["valid_to"])


async def _load_rows() -> tuple[list[ZoneRow], list[ParamRow], dict[int, Point]]:
    zones = [_zone_row(r) for r in await Zone.scoped_select()]
    params = [_param_row(r) for r in await Parameter.scoped_select()]
    locations = {r["partner_id"]: (Decimal(r["lng"]), Decimal(r["lat"]))
                 for r in await StoreLocation.scoped_select(
                     StoreLocation.partner_id, StoreLocation.lng, StoreLocation.lat)}
    return zones, params, locations


async def load_snapshot() -> Snapshot:
    async def load() -> Snapshot:
        zones, params, locations = await _load_rows()
        return Snapshot.build(zones, params, locations)

    return await platform().cached(CACHE, load)


def _refuse_group_conflicts(zones: Sequence[ZoneRow], params: Sequence[ParamRow],
                            involving: str, field: str | None = None) -> None:
    for conflict in group_conflicts(zones, params):
        if involving in (conflict.first, conflict.second):
            raise ValidationFailed(
                N_("zones %(first)s and %(second)s both contain %(code)s and set different "
                   "%(parameter)s values: a line there would have two answers"),
                field=field or STORED_FIELD[conflict.parameter],
                params={"first": conflict.first, "second": conflict.second,
                        "code": conflict.code, "parameter": STORED_FIELD[conflict.parameter]})


# ----------------------------------------------------------------------------- zones


async def list_zones() -> list[dict[str, Any]]:
    return await Zone.scoped_select().order_by(Zone.code)


async def get_zone(zone_id: int) -> dict[str, Any]:
    return await Zone.scoped_get(zone_id, what="zone")


def _clean_zone(*, name: str, kind: str, region_codes: Sequence[str],
                polygon: Sequence[Point], description: str) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(N_("give the zone a name"), field="name")
    if len(name) > 100:
        raise ValidationFailed(N_("the name is longer than %(max)s characters"), field="name",
                               params={"max": 100})
    if kind not in KINDS:
        raise ValidationFailed(N_("kind must be group or geofence"), field="kind")
    codes: list[str] = []
    ring: list[Point] = []
    if kind == "group":
        for index, code in enumerate(region_codes):
            check_region(code, f"region_codes[{index}]")
            if code not in codes:
                codes.append(code)
        if not codes:
            raise ValidationFailed(N_("a group zone needs at least one region code"),
                                   field="region_codes")
    else:
        ring = check_polygon(polygon)
    return {"name": name, "kind": kind, "region_codes": sorted(codes),
            "polygon": [[str(lng), str(lat)] for lng, lat in ring],
            "description": (description or "").strip()}


async def create_zone(*, code: str, name: str, kind: str, region_codes: Sequence[str] = (),
                      polygon: Sequence[Point] = (), description: str = "") -> dict[str, Any]:
    code = (code or "").strip()
    if not ZONE_CODE.match(code):
        raise ValidationFailed(N_("the code must start with a capital letter and hold only "
                                  "A-Z, 0-9, _ and - (at most 32), e.g. HN"), field="code")
    values = _clean_zone(name=name, kind=kind, region_codes=region_codes, polygon=polygon,
                         description=description)
    if await Zone.scoped_count().where(Zone.code == code):
        raise ValidationFailed(N_("a zone with the code %(code)s already exists"),
                               field="code", params={"code": code})
    zones, params, _ = await _load_rows()
    zones.append(_zone_row({"code": code, **values}))
    _refuse_group_conflicts(zones, params, code, field="region_codes")
    now = platform().now()
    row = await Zone.scoped_insert(code=code, created_at=now, updated_at=now, **values)
    await platform().audit("regional_pricing.zone.create", f"zone:{code}", None, plain(row))
    await platform().invalidate(CACHE)
    return row


async def update_zone(zone_id: int, *, name: str, kind: str, region_codes: Sequence[str] = (),
                      polygon: Sequence[Point] = (), description: str = "") -> dict[str, Any]:
    before = await get_zone(zone_id)
    values = _clean_zone(name=name, kind=kind, region_codes=region_codes, polygon=polygon,
                         description=description)
    zones, params, _ = await _load_rows()
    zones = [z for z in zones if z.code != before["code"]]
    zones.append(_zone_row({"code": before["code"], **values}))
    _refuse_group_conflicts(zones, params, before["code"], field="region_codes")
    await Zone.scoped_update({**values, "updated_at": platform().now()}).where(
        Zone.id == zone_id)
    after = await get_zone(zone_id)
    await platform().audit("regional_pricing.zone.update", f"zone:{before['code']}",
                           plain(before), plain(after))
    await platform().invalidate(CACHE)
    return after


async def delete_zone(zone_id: int) -> None:
    before = await get_zone(zone_id)
    used = await Parameter.scoped_count().where(Parameter.target == before["code"])
    if used:
        raise Conflict(N_("zone %(code)s still has price parameters; delete them first"),
                       field="id", params={"code": before["code"]})
    await Zone.scoped_delete().where(Zone.id == zone_id)
    await platform().audit("regional_pricing.zone.delete", f"zone:{before['code']}",
                           plain(before), None)
    await platform().invalidate(CACHE)


# ----------------------------------------------------------------------------- parameters


async def list_parameters(target: str | None = None) -> list[dict[str, Any]]:
    query = Parameter.scoped_select()
    if target:
        query = query.where(Parameter.target == target)
    rows = await query.order_by(Parameter.target).order_by(Parameter.valid_from)
    for row in rows:
        row["price_adjust_pct"] = stored_decimal(row["price_adjust_pct"])
        row["labour_rate"] = stored_decimal(row["labour_rate"])
    return rows


async def get_parameter(parameter_id: int) -> dict[str, Any]:
    return await Parameter.scoped_get(parameter_id, what="price parameter")


async def _clean_parameter(*, target: str, price_adjust_pct: Decimal | None,
                           labour_rate: Decimal | None, currency: str,
                           valid_from: dt.date | None, valid_to: dt.date | None,
                           note: str) -> dict[str, Any]:
    target = (target or "").strip()
    if REGION_CODE.match(target):
        check_region(target, "target")
        target_kind = "region"
    elif ZONE_CODE.match(target) and await Zone.scoped_count().where(Zone.code == target):
        target_kind = "zone"
    else:
        raise ValidationFailed(N_("%(target)s is neither a known region code nor a zone "
                                  "code"), field="target", params={"target": target})
    if price_adjust_pct is None and labour_rate is None:
        raise ValidationFailed(N_("set a price adjustment, a labour rate or both"),
                               field="price_adjust_pct")
    if price_adjust_pct is not None and not (
            price_adjust_pct.is_finite() and MIN_PCT <= price_adjust_pct <= MAX_PCT):
        raise ValidationFailed(N_("the price adjustment must be between -90 and 500 percent"),
                               field="price_adjust_pct")
    if labour_rate is not None and not (labour_rate.is_finite()
                                        and Decimal(0) <= labour_rate <= MAX_RATE):
        raise ValidationFailed(N_("the labour rate must be between 0 and %(max)s per hour"),
                               field="labour_rate", params={"max": MAX_RATE})
    if not CURRENCY.match(currency or ""):
        raise ValidationFailed(N_("the currency is a three-letter code, e.g. CNY"),
                               field="currency")
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationFailed(N_("the period ends before it starts"), field="valid_to")
    return {"target": target, "target_kind": target_kind,
            "price_adjust_pct": price_adjust_pct, "labour_rate": labour_rate,
            "currency": currency, "valid_from": valid_from, "valid_to": valid_to,
            "note": (note or "").strip()}


async def _check_parameter(values: Mapping[str, Any], replacing: int | None) -> None:
    zones, params, _ = await _load_rows()
    params = [p for p in params if p.id != replacing]
    candidate = _param_row({"id": replacing or 0, **values})
    for other in params:
        if other.target == candidate.target and other.overlaps(candidate):
            raise ValidationFailed(
                N_("%(target)s already has price parameters in %(currency)s for an "
                   "overlapping period (#%(id)s); edit that one or change the dates"),
                field="valid_from", params={"target": candidate.target,
                                            "currency": candidate.currency, "id": other.id})
    if candidate.target_kind == "zone":
        _refuse_group_conflicts(zones, [*params, candidate], candidate.target)


async def create_parameter(**fields: Any) -> dict[str, Any]:
    values = await _clean_parameter(**fields)
    await _check_parameter(values, None)
    now = platform().now()
    row = await Parameter.scoped_insert(created_at=now, updated_at=now, **values)
    await platform().audit("regional_pricing.parameter.create",
                           f"parameter:{row['id']}:{values['target']}", None, plain(row))
    await platform().invalidate(CACHE)
    return await get_parameter(row["id"])


async def update_parameter(parameter_id: int, **fields: Any) -> dict[str, Any]:
    before = await get_parameter(parameter_id)
    values = await _clean_parameter(**fields)
    await _check_parameter(values, parameter_id)
    await Parameter.scoped_update({**values, "updated_at": platform().now()}).where(
        Parameter.id == parameter_id)
    after = await get_parameter(parameter_id)
    await platform().audit("regional_pricing.parameter.update",
                           f"parameter:{parameter_id}:{values['target']}", plain(before),
                           plain(after))
    await platform().invalidate(CACHE)
    return after


async def delete_parameter(parameter_id: int) -> None:
    before = await get_parameter(parameter_id)
    await Parameter.scoped_delete().where(Parameter.id == parameter_id)
    await platform().audit("regional_pricing.parameter.delete",
                           f"parameter:{parameter_id}:{before['target']}", plain(before), None)
    await platform().invalidate(CACHE)


# ----------------------------------------------------------------------------- store locations


async def list_store_locations() -> list[dict[str, Any]]:
    rows = await StoreLocation.scoped_select().order_by(StoreLocation.partner_id)
    partners = {p["id"]: p for p in await platform().list_partners(
        [r["partner_id"] for r in rows])} if rows else {}
    for row in rows:
        partner = partners.get(row["partner_id"], {})
        row["partner_code"] = partner.get("code", "")
        row["partner_name"] = partner.get("name", "")
    return rows


async def get_store_location(location_id: int) -> dict[str, Any]:
    return await StoreLocation.scoped_get(location_id, what="store location")


async def _check_partner(partner_id: int) -> Mapping[str, Any]:
    try:
        return await platform().get_partner(partner_id)
    except NotFound:
        raise ValidationFailed(N_("partner %(id)s not found"), field="partner_id",
                               params={"id": partner_id}) from None


async def set_store_location(*, partner_id: int, lng: Decimal, lat: Decimal, note: str = "",
                             location_id: int | None = None) -> dict[str, Any]:
    """Create (``location_id`` None) or change a store location."""
    before = await get_store_location(location_id) if location_id else None
    await _check_partner(partner_id)
    check_point(lng, lat, "lng", "lat")
    clash = await StoreLocation.scoped_select(StoreLocation.id).where(
        StoreLocation.partner_id == partner_id).first()
    if clash and clash["id"] != location_id:
        raise ValidationFailed(N_("partner %(id)s already has a location; edit that one"),
                               field="partner_id", params={"id": partner_id})
    values = {"partner_id": partner_id, "lng": lng, "lat": lat, "note": (note or "").strip(),
              "updated_at": platform().now()}
    if location_id is None:
        row = await StoreLocation.scoped_insert(**values)
        location_id = row["id"]
    else:
        await StoreLocation.scoped_update(values).where(StoreLocation.id == location_id)
    after = await get_store_location(location_id)
    await platform().audit("regional_pricing.store_location.save",
                           f"store_location:{partner_id}", plain(before), plain(after))
    await platform().invalidate(CACHE)
    return after


async def delete_store_location(location_id: int) -> None:
    before = await get_store_location(location_id)
    await StoreLocation.scoped_delete().where(StoreLocation.id == location_id)
    await platform().audit("regional_pricing.store_location.delete",
                           f"store_location:{before['partner_id']}", plain(before), None)
    await platform().invalidate(CACHE)


# ----------------------------------------------------------------------------- resolution


def target_name(snapshot: Snapshot, target: str) -> str:
    zone = snapshot.zones.get(target)
    return zone.name if zone else region_name(target)


def _location_fact(value: Any, field: str) -> Point:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValidationFailed(N_("location must be [lng, lat]"), field=field)
    lng, lat = decimal_of(value[0], field), decimal_of(value[1], field)
    check_point(lng, lat, field, field)
    return lng, lat


def resolve_line(snapshot: Snapshot, *, region_code: str | None, location: Point | None,
                 on_date: dt.date, currency: str) -> Resolution:
    chain = region_chain(region_code) if region_code else []
    return resolve(snapshot, [str(r["code"]) for r in chain], [str(r["level"]) for r in chain],
                   location, on_date, currency)


async def facts_for(contexts: Sequence[PriceContext]) -> list[dict[str, Any]]:
    """The ``regional_pricing.*`` facts of each line (one snapshot load per call)."""
    snapshot = await load_snapshot()
    memo: dict[tuple[Any, ...], dict[str, Any]] = {}
    answers = []
    for context in contexts:
        facts = context.facts
        location: Point | None = None
        if facts.get("location") is not None:
            location = _location_fact(facts["location"], "location")
        elif context.partner_id is not None:
            location = snapshot.locations.get(context.partner_id)
        region = facts.get("region.code")
        day = facts.get("on_date") or context.on_date or today()
        key = (region, location, day, context.currency)
        found = memo.get(key)
        if found is None:
            resolution = resolve_line(snapshot, region_code=region, location=location,
                                      on_date=day, currency=context.currency)
            labour, adjust = resolution.source("labour_rate"), resolution.source("adjust_pct")
            found = memo[key] = {
                "regional_pricing.zones": resolution.zones,
                "regional_pricing.labour_rate": resolution.value("labour_rate"),
                "regional_pricing.labour_rate_from": labour.target if labour else None,
                "regional_pricing.adjust_pct": resolution.value("adjust_pct"),
                "regional_pricing.adjust_pct_from": adjust.target if adjust else None,
            }
        answers.append(found)
    return answers


async def effective(*, region_code: str | None, lng: Decimal | None, lat: Decimal | None,
                    partner_id: int | None, on_date: dt.date | None,
                    currency: str) -> dict[str, Any]:
    """What pricing would use for a line in this region/location: each parameter with its
    source, and every target that was looked at (most specific first)."""
    if not CURRENCY.match(currency or ""):
        raise ValidationFailed(N_("the currency is a three-letter code, e.g. CNY"),
                               field="currency")
    partner = await _check_partner(partner_id) if partner_id is not None else None
    region_code = region_code or (partner["region_code"] if partner else None) or None
    if region_code:
        check_region(region_code, "region_code")
    snapshot = await load_snapshot()
    location: Point | None = None
    location_from = ""
    if (lng is None) != (lat is None):
        raise ValidationFailed(N_("give both lng and lat, or neither"),
                               field="lat" if lat is None else "lng")
    if lng is not None and lat is not None:
        check_point(lng, lat, "lng", "lat")
        location, location_from = (lng, lat), "query"
    elif partner_id is not None and partner_id in snapshot.locations:
        location, location_from = snapshot.locations[partner_id], "store_location"
    if not region_code and location is None:
        raise ValidationFailed(N_("give a region code, a location or a partner"),
                               field="region_code")
    day = on_date or today()
    resolution = resolve_line(snapshot, region_code=region_code, location=location,
                              on_date=day, currency=currency)

    def source(name: str) -> dict[str, Any]:
        found = resolution.source(name)
        return {"value": resolution.value(name),
                "source": found.target if found else None,
                "source_level": found.level if found else None,
                "source_name": target_name(snapshot, found.target) if found else None}

    return {
        "region_code": region_code,
        "region_name": region_name(region_code) if region_code else None,
        "location": [location[0], location[1]] if location else None,
        "location_from": location_from or None,
        "on_date": day, "currency": currency,
        "zones": list(resolution.zones),
        "labour_rate": source("labour_rate"),
        "price_adjust_pct": source("adjust_pct"),
        "chain": [{"target": c.target, "level": c.level,
                   "name": target_name(snapshot, c.target),
                   "labour_rate": c.row.labour_rate if c.row else None,
                   "price_adjust_pct": c.row.adjust_pct if c.row else None,
                   "parameter_id": c.row.id if c.row else None}
                  for c in resolution.candidates],
    }


# ----------------------------------------------------------------------------- admin views


async def region_tree() -> list[dict[str, Any]]:
    """Region targets grouped by province: each node's own values and the effective ones
    (today, in its currency), so an admin sees what a city sets and what it inherits."""
    snapshot = await load_snapshot()
    day = today()
    rows = [r for r in await list_parameters() if r["target_kind"] == "region"]
    provinces: dict[str, dict[str, Any]] = {}
    for row in rows:
        chain = region_chain(row["target"])
        if not chain:
            continue
        province = provinces.setdefault(str(chain[0]["code"]), {
            "code": chain[0]["code"], "name": chain[0]["name"], "nodes": []})
        resolution = resolve_line(snapshot, region_code=row["target"], location=None,
                                  on_date=day, currency=row["currency"])

        def eff(name: str, resolution: Resolution = resolution) -> dict[str, Any]:
            found = resolution.source(name)
            return {"value": resolution.value(name),
                    "source": found.target if found else None,
                    "source_name": target_name(snapshot, found.target) if found else ""}

        province["nodes"].append({
            "row": row, "name": chain[-1]["name"], "level": chain[-1]["level"],
            "depth": len(chain) - 1,
            "path": " › ".join(str(c["name"]) for c in chain),
            "labour": eff("labour_rate"), "adjust": eff("adjust_pct")})
    for province in provinces.values():
        province["nodes"].sort(key=lambda n: (n["row"]["target"], n["row"]["valid_from"]
                                              or dt.date.min))
    return [provinces[k] for k in sorted(provinces)]


# ----------------------------------------------------------------------------- demo data

SIP_POLYGON = [  # 苏州工业园区, roughly: 金鸡湖 west shore to 阳澄湖 south, 独墅湖 in the south
    ("120.625", "31.335"), ("120.660", "31.365"), ("120.735", "31.370"),
    ("120.790", "31.350"), ("120.800", "31.300"), ("120.770", "31.255"),
    ("120.700", "31.250"), ("120.640", "31.270"),
]


async def seed_demo(tenant_id: int) -> None:
    await create_zone(code="HB", name="华北", kind="group",
                      region_codes=["110000", "120000", "130000", "140000", "150000"],
                      description="北京、天津、河北、山西、内蒙古：经销商阶梯返利区")
    await create_zone(code="HN", name="华南", kind="group",
                      region_codes=["440000", "450000", "460000"],
                      description="广东、广西、海南：经销商拿货价比华北高5%")
    await create_zone(code="SIP", name="苏州工业园区", kind="geofence",
                      polygon=[(Decimal(a), Decimal(b)) for a, b in SIP_POLYGON],
                      description="园区门店与服务商的电子围栏")
    base = {"currency": "CNY", "valid_from": None, "valid_to": None}
    for target, pct, rate, note in [
        ("HB", Decimal(0), None, "华北基准价"),
        ("HN", Decimal(5), None, "华南经销商拿货价 +5%"),
        ("320500", None, Decimal("100.00"), "苏州市工时费"),
        ("310000", None, Decimal("110.00"), "上海市工时费"),
        ("310115", None, Decimal("115.00"), "浦东新区工时费：比苏州高15%"),
        ("SIP", None, Decimal("100.00"), "苏州工业园区工时费"),
    ]:
        await create_parameter(target=target, price_adjust_pct=pct, labour_rate=rate,
                               note=note, **base)
    partners = await platform().list_partners()
    # 园区设备维修服务商 SZ-SP-01 of the demo tenant; elsewhere the first store-like partner.
    store = next((p for p in partners if p["code"] == "SZ-SP-01"), None) or next(
        (p for p in partners if p["kind"] in ("service_provider", "store")),
        partners[0] if partners else None)
    if store is not None:  # at 星湖街 near 金鸡湖, inside the park
        await set_store_location(partner_id=store["id"], lng=Decimal("120.7300"),
                                 lat=Decimal("31.3100"), note="苏州工业园区星湖街")
