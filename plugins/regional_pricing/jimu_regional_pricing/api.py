"""Routes under /api/v1/regional_pricing: zones, price parameters, store locations and the
effective-parameters lookup."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from jimu_sdk.params import MAX_RECORD_ID, RecordId
from jimu_sdk.web import needs
from litestar import delete, get, post, put
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from jimu_regional_pricing import services

Page = Annotated[int, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int, Parameter(ge=1, le=500)]
IdParam = Annotated[int, Parameter(ge=1, le=MAX_RECORD_ID)]
Text100 = Annotated[str, msgspec.Meta(max_length=100)]
Coordinate = Annotated[list[Decimal], msgspec.Meta(min_length=2, max_length=2)]


READ, WRITE = needs("regional_pricing.read"), needs("regional_pricing.write")


def envelope(rows: list[Any], page: int, per_page: int) -> dict[str, Any]:
    start = (page - 1) * per_page
    return {"items": rows[start:start + per_page], "total": len(rows), "page": page,
            "per_page": per_page}


# ----------------------------------------------------------------------------- zones


class ZoneUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Text100
    kind: str = "group"
    region_codes: Annotated[list[Annotated[str, msgspec.Meta(max_length=12)]],
                            msgspec.Meta(max_length=500)] = []
    polygon: Annotated[list[Coordinate], msgspec.Meta(max_length=services.MAX_POINTS)] = []
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ZoneIn(ZoneUpdate, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=32)] = ""


class ZoneOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    region_codes: list[str]
    polygon: list[list[Decimal]]
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ZoneList(msgspec.Struct):
    items: list[ZoneOut]
    total: int
    page: int
    per_page: int


def zone_out(row: dict[str, Any]) -> ZoneOut:
    values = {k: row[k] for k in ZoneOut.__struct_fields__}
    values["polygon"] = [[Decimal(a), Decimal(b)] for a, b in row["polygon"] or []]
    return ZoneOut(**values)


def _zone_fields(data: ZoneUpdate) -> dict[str, Any]:
    return {"name": data.name, "kind": data.kind, "region_codes": data.region_codes,
            "polygon": [(p[0], p[1]) for p in data.polygon], "description": data.description}


@get("/zones", guards=READ, summary="Zones (sales regions and geofences), by code")
async def list_zones(page: FromQuery[Page] = 1, per_page: FromQuery[PerPage] = 100
                     ) -> ZoneList:
    rows = [zone_out(r) for r in await services.list_zones()]
    return ZoneList(**envelope(rows, page, per_page))


@get("/zones/{zone_id:int}", guards=READ, summary="One zone")
async def get_zone(zone_id: IdParam) -> ZoneOut:
    return zone_out(await services.get_zone(zone_id))


@post("/zones", guards=WRITE, summary="Create a zone")
async def create_zone(data: JSONBody[ZoneIn]) -> ZoneOut:
    return zone_out(await services.create_zone(code=data.code, **_zone_fields(data)))


@put("/zones/{zone_id:int}", guards=WRITE, summary="Change a zone (its code stays)")
async def update_zone(zone_id: IdParam, data: JSONBody[ZoneUpdate]) -> ZoneOut:
    return zone_out(await services.update_zone(zone_id, **_zone_fields(data)))


@delete("/zones/{zone_id:int}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a zone without price parameters")
async def delete_zone(zone_id: IdParam) -> None:
    await services.delete_zone(zone_id)


# ----------------------------------------------------------------------------- parameters


class ParameterIn(msgspec.Struct, forbid_unknown_fields=True):
    target: Annotated[str, msgspec.Meta(max_length=32)]
    price_adjust_pct: Decimal | None = None
    labour_rate: Decimal | None = None
    currency: Annotated[str, msgspec.Meta(max_length=3)] = "CNY"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ParameterOut(msgspec.Struct):
    id: int
    target: str
    target_kind: str
    price_adjust_pct: Decimal | None
    labour_rate: Decimal | None
    currency: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    note: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ParameterList(msgspec.Struct):
    items: list[ParameterOut]
    total: int
    page: int
    per_page: int


def parameter_out(row: dict[str, Any]) -> ParameterOut:
    return ParameterOut(**{k: row[k] for k in ParameterOut.__struct_fields__})


def _parameter_fields(data: ParameterIn) -> dict[str, Any]:
    return {f: getattr(data, f) for f in ParameterIn.__struct_fields__}


@get("/parameters", guards=READ, summary="Price parameters, by target")
async def list_parameters(target: FromQuery[Annotated[str | None, Parameter(max_length=32)]]
                          = None, page: FromQuery[Page] = 1,
                          per_page: FromQuery[PerPage] = 100) -> ParameterList:
    rows = [parameter_out(r) for r in await services.list_parameters(target)]
    return ParameterList(**envelope(rows, page, per_page))


@get("/parameters/{parameter_id:int}", guards=READ, summary="One price parameter")
async def get_parameter(parameter_id: IdParam) -> ParameterOut:
    return parameter_out(await services.get_parameter(parameter_id))


@post("/parameters", guards=WRITE, summary="Set price parameters for a region or zone")
async def create_parameter(data: JSONBody[ParameterIn]) -> ParameterOut:
    return parameter_out(await services.create_parameter(**_parameter_fields(data)))


@put("/parameters/{parameter_id:int}", guards=WRITE, summary="Change price parameters")
async def update_parameter(parameter_id: IdParam, data: JSONBody[ParameterIn]
                           ) -> ParameterOut:
    return parameter_out(await services.update_parameter(parameter_id,
                                                         **_parameter_fields(data)))


@delete("/parameters/{parameter_id:int}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete price parameters (the target then inherits)")
async def delete_parameter(parameter_id: IdParam) -> None:
    await services.delete_parameter(parameter_id)


# ----------------------------------------------------------------------------- store locations


class StoreLocationIn(msgspec.Struct, forbid_unknown_fields=True):
    partner_id: RecordId
    lng: Decimal
    lat: Decimal
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class StoreLocationOut(msgspec.Struct):
    id: int
    partner_id: int
    lng: Decimal
    lat: Decimal
    note: str
    updated_at: dt.datetime
    partner_code: str = ""
    partner_name: str = ""


class StoreLocationList(msgspec.Struct):
    items: list[StoreLocationOut]
    total: int
    page: int
    per_page: int


def location_out(row: dict[str, Any]) -> StoreLocationOut:
    values = {k: row[k] for k in StoreLocationOut.__struct_fields__ if k in row}
    values["lng"], values["lat"] = Decimal(row["lng"]), Decimal(row["lat"])
    return StoreLocationOut(**values)


@get("/store-locations", guards=READ, summary="Store locations of partners, for geofences")
async def list_store_locations(page: FromQuery[Page] = 1, per_page: FromQuery[PerPage] = 100
                               ) -> StoreLocationList:
    rows = [location_out(r) for r in await services.list_store_locations()]
    return StoreLocationList(**envelope(rows, page, per_page))


@get("/store-locations/{location_id:int}", guards=READ, summary="One store location")
async def get_store_location(location_id: IdParam) -> StoreLocationOut:
    return location_out(await services.get_store_location(location_id))


@post("/store-locations", guards=WRITE, summary="Set a partner's location")
async def create_store_location(data: JSONBody[StoreLocationIn]) -> StoreLocationOut:
    return location_out(await services.set_store_location(
        partner_id=data.partner_id, lng=data.lng, lat=data.lat, note=data.note))


@put("/store-locations/{location_id:int}", guards=WRITE, summary="Move a store location")
async def update_store_location(location_id: IdParam, data: JSONBody[StoreLocationIn]
                                ) -> StoreLocationOut:
    return location_out(await services.set_store_location(
        partner_id=data.partner_id, lng=data.lng, lat=data.lat, note=data.note,
        location_id=location_id))


@delete("/store-locations/{location_id:int}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a store location")
async def delete_store_location(location_id: IdParam) -> None:
    await services.delete_store_location(location_id)


# ----------------------------------------------------------------------------- effective


class EffectiveValue(msgspec.Struct):
    value: Decimal | None
    source: str | None
    source_level: str | None
    source_name: str | None


class ChainEntry(msgspec.Struct):
    target: str
    level: str
    name: str
    labour_rate: Decimal | None
    price_adjust_pct: Decimal | None
    parameter_id: int | None


class EffectiveOut(msgspec.Struct):
    region_code: str | None
    region_name: str | None
    location: list[Decimal] | None
    location_from: str | None
    on_date: dt.date
    currency: str
    zones: list[str]
    labour_rate: EffectiveValue
    price_adjust_pct: EffectiveValue
    chain: list[ChainEntry]


@get("/effective", guards=READ,
     summary="The parameters pricing would use for a region, location or partner, and where "
             "each comes from")
async def effective(
    region_code: FromQuery[Annotated[str | None, Parameter(max_length=12)]] = None,
    lng: FromQuery[Decimal | None] = None, lat: FromQuery[Decimal | None] = None,
    partner_id: FromQuery[Annotated[int | None, Parameter(ge=1, le=MAX_RECORD_ID)]] = None,
    on_date: FromQuery[dt.date | None] = None,
    currency: FromQuery[Annotated[str, Parameter(max_length=3)]] = "CNY",
) -> EffectiveOut:
    result = await services.effective(region_code=region_code, lng=lng, lat=lat,
                                      partner_id=partner_id, on_date=on_date,
                                      currency=currency)
    return msgspec.convert(result, EffectiveOut, from_attributes=True)


ROUTES = [list_zones, get_zone, create_zone, update_zone, delete_zone,
          list_parameters, get_parameter, create_parameter, update_parameter, delete_parameter,
          list_store_locations, get_store_location, create_store_location,
          update_store_location, delete_store_location, effective]
