"""Admin pages under /admin/p/regional_pricing/: zones, price parameters as a region tree,
store locations and the effective-parameters lookup."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jimu_sdk import N_, JimuError, ValidationFailed, has_permission, platform
from jimu_sdk.web import needs
from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template

from jimu_regional_pricing import services
from jimu_regional_pricing.geometry import Point

BASE = "/admin/p/regional_pricing"
WRITE = needs("regional_pricing.write")
SVG_SIZE = 240


class Form:
    """Submitted values and the error of each field, for re-rendering a failed form."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = values or {}
        self.errors: dict[str, tuple[str, dict[str, Any]]] = {}
        self.message: tuple[str, dict[str, Any]] | None = None

    @classmethod
    def failed(cls, values: dict[str, Any], exc: JimuError) -> Form:
        form = cls(values)
        if exc.field:
            # polygon[2].lat and region_codes[1] are shown next to their text field.
            form.errors[exc.field.split("[")[0]] = (exc.message_id, exc.params)
        else:
            form.message = (exc.message_id, exc.params)
        return form


async def form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}


def optional_decimal(values: dict[str, str], name: str) -> Decimal | None:
    text = (values.get(name) or "").strip()
    return services.decimal_of(text, name) if text else None


def optional_date(values: dict[str, str], name: str) -> dt.date | None:
    text = (values.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(N_("%(value)s is not a date (YYYY-MM-DD)"),
                                        field=name, params={"value": text}) from None


def svg_polygon(points: list[Point]) -> dict[str, Any] | None:
    """Points scaled into a square SVG (north up), for a preview without map tiles."""
    if len(points) < 3:
        return None
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    span = max(max(lngs) - min(lngs), max(lats) - min(lats)) or Decimal(1)
    pad = Decimal(12)
    scale = (Decimal(SVG_SIZE) - 2 * pad) / span

    def xy(p: Point) -> str:
        x = pad + (p[0] - min(lngs)) * scale
        y = pad + (max(lats) - p[1]) * scale
        return f"{x:.1f},{y:.1f}"

    return {"size": SVG_SIZE, "points": " ".join(xy(p) for p in points),
            "vertices": [xy(p).split(",") for p in points]}


def zone_points(row: dict[str, Any]) -> list[Point]:
    return [(Decimal(a), Decimal(b)) for a, b in row.get("polygon") or []]


def zone_values(zone: dict[str, Any]) -> dict[str, Any]:
    return {"code": zone["code"], "name": zone["name"], "kind": zone["kind"],
            "region_codes": ", ".join(zone["region_codes"] or []),
            "polygon": "\n".join(f"{a},{b}" for a, b in zone["polygon"] or []),
            "description": zone["description"]}


def saved(path: str) -> Redirect:
    return Redirect(f"{BASE}{path}?saved=1", status_code=303)


class RegionalPricingPages(Controller):
    path = "/"
    include_in_schema = False

    # ------------------------------------------------------------------ overview

    @get("/", media_type=MediaType.HTML)
    async def index(self, request: Request) -> Template:
        zones = await services.list_zones()
        zone_params = [r for r in await services.list_parameters()
                       if r["target_kind"] == "zone"]
        for zone in zones:
            zone["preview"] = svg_polygon(zone_points(zone)) if zone["kind"] == "geofence" \
                else None
        return Template("regional_pricing/index.html", context={
            "zones": zones, "tree": await services.region_tree(), "zone_params": zone_params,
            "zone_names": {z["code"]: z["name"] for z in zones},
            "can_write": has_permission("regional_pricing.write"),
            "saved": request.query_params.get("saved") == "1"})

    # ------------------------------------------------------------------ zones

    async def _zone_form(self, form: Form, zone: dict[str, Any] | None,
                         status: int = 200) -> Template:
        preview = None
        try:
            preview = svg_polygon(services.parse_points(form.values.get("polygon", "")))
        except JimuError:
            preview = None
        return Template("regional_pricing/zone_form.html", status_code=status, context={
            "form": form, "zone": zone, "preview": preview,
            "can_write": has_permission("regional_pricing.write")})

    @get("/zones/new", media_type=MediaType.HTML, guards=WRITE)
    async def new_zone(self) -> Template:
        return await self._zone_form(Form({"kind": "group"}), None)

    @post("/zones/new", media_type=MediaType.HTML, guards=WRITE)
    async def create_zone(self, request: Request) -> Template | Redirect:
        values = await form_values(request)
        try:
            await services.create_zone(
                code=values.get("code", ""), name=values.get("name", ""),
                kind=values.get("kind", ""),
                region_codes=services.parse_region_codes(values.get("region_codes", "")),
                polygon=services.parse_points(values.get("polygon", ""))
                if values.get("kind") == "geofence" else [],
                description=values.get("description", ""))
        except JimuError as exc:
            return await self._zone_form(Form.failed(values, exc), None, exc.status_code)
        return saved("/")

    @get("/zones/{zone_id:int}", media_type=MediaType.HTML)
    async def edit_zone(self, zone_id: int) -> Template:
        zone = await services.get_zone(zone_id)
        return await self._zone_form(Form(zone_values(zone)), zone)

    @post("/zones/{zone_id:int}", media_type=MediaType.HTML, guards=WRITE)
    async def update_zone(self, request: Request, zone_id: int) -> Template | Redirect:
        zone = await services.get_zone(zone_id)
        values = await form_values(request)
        try:
            await services.update_zone(
                zone_id, name=values.get("name", ""), kind=values.get("kind", ""),
                region_codes=services.parse_region_codes(values.get("region_codes", "")),
                polygon=services.parse_points(values.get("polygon", ""))
                if values.get("kind") == "geofence" else [],
                description=values.get("description", ""))
        except JimuError as exc:
            return await self._zone_form(Form.failed({**values, "code": zone["code"]}, exc),
                                         zone, exc.status_code)
        return saved("/")

    @post("/zones/{zone_id:int}/delete", media_type=MediaType.HTML, guards=WRITE)
    async def delete_zone(self, zone_id: int) -> Template | Redirect:
        zone = await services.get_zone(zone_id)
        try:
            await services.delete_zone(zone_id)
        except JimuError as exc:
            form = Form(zone_values(zone))
            form.message = (exc.message_id, exc.params)
            return await self._zone_form(form, zone, exc.status_code)
        return saved("/")

    # ------------------------------------------------------------------ parameters

    async def _parameter_form(self, form: Form, parameter: dict[str, Any] | None,
                              status: int = 200) -> Template:
        zones = await services.list_zones()
        target = form.values.get("target", "")
        where = None
        if services.REGION_CODE.match(target):
            try:  # what the region gets today, so the admin sees what it would override
                where = await services.effective(
                    region_code=target, lng=None, lat=None, partner_id=None, on_date=None,
                    currency=form.values.get("currency") or "CNY")
            except JimuError:
                where = None
        return Template("regional_pricing/parameter_form.html", status_code=status, context={
            "form": form, "parameter": parameter, "zones": zones, "inherited": where,
            "can_write": has_permission("regional_pricing.write")})

    @staticmethod
    def _parameter_fields(values: dict[str, str]) -> dict[str, Any]:
        return {"target": values.get("target", "").strip(),
                "price_adjust_pct": optional_decimal(values, "price_adjust_pct"),
                "labour_rate": optional_decimal(values, "labour_rate"),
                "currency": (values.get("currency") or "CNY").strip().upper(),
                "valid_from": optional_date(values, "valid_from"),
                "valid_to": optional_date(values, "valid_to"),
                "note": values.get("note", "")}

    @get("/parameters/new", media_type=MediaType.HTML, guards=WRITE)
    async def new_parameter(self, request: Request) -> Template:
        return await self._parameter_form(
            Form({"target": request.query_params.get("target", ""), "currency": "CNY"}), None)

    @post("/parameters/new", media_type=MediaType.HTML, guards=WRITE)
    async def create_parameter(self, request: Request) -> Template | Redirect:
        values = await form_values(request)
        try:
            await services.create_parameter(**self._parameter_fields(values))
        except JimuError as exc:
            return await self._parameter_form(Form.failed(values, exc), None, exc.status_code)
        return saved("/")

    @get("/parameters/{parameter_id:int}", media_type=MediaType.HTML)
    async def edit_parameter(self, parameter_id: int) -> Template:
        row = await services.get_parameter(parameter_id)
        values = {k: ("" if row[k] is None else str(row[k]))
                  for k in ("target", "price_adjust_pct", "labour_rate", "currency",
                            "valid_from", "valid_to", "note")}
        return await self._parameter_form(Form(values), row)

    @post("/parameters/{parameter_id:int}", media_type=MediaType.HTML, guards=WRITE)
    async def update_parameter(self, request: Request, parameter_id: int
                               ) -> Template | Redirect:
        row = await services.get_parameter(parameter_id)
        values = await form_values(request)
        try:
            await services.update_parameter(parameter_id, **self._parameter_fields(values))
        except JimuError as exc:
            return await self._parameter_form(Form.failed(values, exc), row, exc.status_code)
        return saved("/")

    @post("/parameters/{parameter_id:int}/delete", media_type=MediaType.HTML, guards=WRITE)
    async def delete_parameter(self, parameter_id: int) -> Redirect:
        await services.delete_parameter(parameter_id)
        return saved("/")

    # ------------------------------------------------------------------ store locations

    async def _locations(self, form: Form, status: int = 200, saved_flag: bool = False
                         ) -> Template:
        return Template("regional_pricing/locations.html", status_code=status, context={
            "form": form, "locations": await services.list_store_locations(),
            "partners": await platform().list_partners(),
            "can_write": has_permission("regional_pricing.write"), "saved": saved_flag})

    @get("/locations", media_type=MediaType.HTML)
    async def locations(self, request: Request) -> Template:
        return await self._locations(Form(), saved_flag=request.query_params.get("saved") == "1")

    @post("/locations", media_type=MediaType.HTML, guards=WRITE)
    async def save_location(self, request: Request) -> Template | Redirect:
        values = await form_values(request)
        try:
            partner_text = values.get("partner_id", "").strip()
            if not partner_text.isdigit():
                raise ValidationFailed(N_("choose a partner"),
                                                field="partner_id")
            lng = services.decimal_of(values.get("lng", ""), "lng")
            lat = services.decimal_of(values.get("lat", ""), "lat")
            partner_id = int(partner_text)
            existing = [r for r in await services.list_store_locations()
                        if r["partner_id"] == partner_id]
            await services.set_store_location(
                partner_id=partner_id, lng=lng, lat=lat, note=values.get("note", ""),
                location_id=existing[0]["id"] if existing else None)
        except JimuError as exc:
            return await self._locations(Form.failed(values, exc), exc.status_code)
        return saved("/locations")

    @post("/locations/{location_id:int}/delete", media_type=MediaType.HTML, guards=WRITE)
    async def delete_location(self, location_id: int) -> Redirect:
        await services.delete_store_location(location_id)
        return saved("/locations")

    # ------------------------------------------------------------------ effective lookup

    @get("/effective", media_type=MediaType.HTML)
    async def effective(self, request: Request) -> Template:
        query = request.query_params
        values = {k: query.get(k, "") for k in ("region_code", "lng", "lat", "partner_id",
                                                 "on_date", "currency")}
        values["currency"] = values["currency"] or "CNY"
        form, result, status = Form(values), None, 200
        if any(values[k] for k in ("region_code", "lng", "lat", "partner_id")):
            try:
                partner = values["partner_id"].strip()
                if partner and not partner.isdigit():
                    raise ValidationFailed(N_("choose a partner"),
                                                    field="partner_id")
                result = await services.effective(
                    region_code=values["region_code"].strip() or None,
                    lng=optional_decimal(values, "lng"), lat=optional_decimal(values, "lat"),
                    partner_id=int(partner) if partner else None,
                    on_date=optional_date(values, "on_date"),
                    currency=(values["currency"] or "CNY").strip().upper())
            except JimuError as exc:
                form, status = Form.failed(values, exc), exc.status_code
        return Template("regional_pricing/effective.html", status_code=status, context={
            "form": form, "result": result,
            "partners": await platform().list_partners()})
