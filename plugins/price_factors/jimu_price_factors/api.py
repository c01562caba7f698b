"""Routes under /api/v1/price_factors and the admin pages under /admin/p/price_factors."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

import msgspec
from jimu_sdk import N_, JimuError, ValidationFailed, has_permission
from jimu_sdk.web import needs
from litestar import Controller, MediaType, Request, delete, get, post, put
from litestar.params import FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from jimu_price_factors import services
from jimu_price_factors.services import SCOPE_FIELDS, FactorInput

PAGES = "/admin/p/price_factors"


Codes = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]],
                  msgspec.Meta(max_length=services.MAX_CODES)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class FactorBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    params: dict[str, Any] = {}
    regions: Codes = []
    partner_levels: Codes = []
    partner_tiers: Codes = []
    partner_kinds: Codes = []
    customer_levels: Codes = []
    channels: Codes = []
    items: Codes = []
    categories: Codes = []
    audience_match: str = "all"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    enabled: bool = True
    priority: int = 0

    def as_input(self) -> FactorInput:
        return FactorInput(**{name: getattr(self, name) for name in FactorBody.__struct_fields__})


class FactorIn(FactorBody, kw_only=True):
    code: Code


class FactorOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    params: dict[str, Any]
    regions: list[str]
    partner_levels: list[str]
    partner_tiers: list[str]
    partner_kinds: list[str]
    customer_levels: list[str]
    channels: list[str]
    items: list[str]
    categories: list[str]
    audience_match: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    enabled: bool
    priority: int
    kind_offered: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class KindOut(msgspec.Struct):
    key: str
    plugin: str
    title: dict[str, str]
    description: dict[str, str]
    order: int
    params_schema: dict[str, Any]


def factor_out(row: dict[str, Any], offered: dict[str, Any]) -> FactorOut:
    values = {name: row[name] for name in FactorOut.__struct_fields__ if name in row}
    for name in SCOPE_FIELDS:
        values[name] = list(values.get(name) or [])
    return FactorOut(**values, kind_offered=row["kind"] in offered)


# ---------------------------------------------------------------------------- API


@get("/kinds", guards=needs("price_factors.read"),
     summary="Price factor kinds offered to the tenant, in pipeline order, with their "
             "parameter schemas")
async def list_kinds() -> list[KindOut]:
    return [KindOut(key=key, plugin=offered.plugin, title=dict(offered.kind.title),
                    description=dict(offered.kind.description), order=offered.kind.order,
                    params_schema=services.params_schema(offered.kind))
            for key, offered in services.offered_kinds().items()]


@get("/factors", guards=needs("price_factors.read"),
     summary="Configured price factors, by code")
async def list_factors(kind: FromQuery[str | None] = None) -> list[FactorOut]:
    offered = services.offered_kinds()
    rows = await services.list_factors()
    return [factor_out(r, offered) for r in rows if kind is None or r["kind"] == kind]


@get("/factors/{factor_code:str}", guards=needs("price_factors.read"),
     summary="One price factor")
async def get_factor(factor_code: str) -> FactorOut:
    return factor_out(await services.get_factor(factor_code), services.offered_kinds())


@post("/factors", guards=needs("price_factors.write"),
      summary="Create a price factor (params validated by its kind)")
async def create_factor(data: JSONBody[FactorIn]) -> FactorOut:
    row = await services.create_factor(data.code, data.as_input())
    return factor_out(row, services.offered_kinds())


@put("/factors/{factor_code:str}", guards=needs("price_factors.write"),
     summary="Replace a price factor's settings (its code stays)")
async def update_factor(factor_code: str, data: JSONBody[FactorBody]) -> FactorOut:
    row = await services.update_factor(factor_code, data.as_input())
    return factor_out(row, services.offered_kinds())


@post("/factors/{factor_code:str}/toggle", guards=needs("price_factors.write"),
      status_code=HTTP_200_OK, summary="Switch a price factor on or off")
async def toggle_factor(factor_code: str) -> FactorOut:
    return factor_out(await services.toggle_factor(factor_code), services.offered_kinds())


@delete("/factors/{factor_code:str}", guards=needs("price_factors.write"),
        status_code=HTTP_204_NO_CONTENT, summary="Delete a price factor")
async def delete_factor(factor_code: str) -> None:
    await services.delete_factor(factor_code)


ROUTES = [list_kinds, list_factors, get_factor, create_factor, update_factor, toggle_factor,
          delete_factor]


# ---------------------------------------------------------------------------- pages


class ParamField(msgspec.Struct):
    """One input of the params part of the form, generated from the kind's struct."""

    name: str
    title: str
    description: str
    input: str  # decimal | int | text | bool | choice | list | json
    required: bool
    choices: list[str]
    default: Any


def param_fields(params_type: type[msgspec.Struct]) -> list[ParamField]:
    info = msgspec.inspect.type_info(params_type)
    assert isinstance(info, msgspec.inspect.StructType)
    fields = []
    for fld in info.fields:
        kind_info: Any = fld.type
        schema: dict[str, Any] = {}
        if isinstance(kind_info, msgspec.inspect.Metadata):
            schema = dict(kind_info.extra_json_schema or {})
            kind_info = kind_info.type
        if isinstance(kind_info, msgspec.inspect.UnionType):
            others = [t for t in kind_info.types if not isinstance(t, msgspec.inspect.NoneType)]
            kind_info = others[0] if len(others) == 1 else kind_info
        if isinstance(kind_info, msgspec.inspect.Metadata):
            schema = {**dict(kind_info.extra_json_schema or {}), **schema}
            kind_info = kind_info.type
        choices: list[str] = []
        if isinstance(kind_info, msgspec.inspect.DecimalType | msgspec.inspect.FloatType):
            widget = "decimal"
        elif isinstance(kind_info, msgspec.inspect.IntType):
            widget = "int"
        elif isinstance(kind_info, msgspec.inspect.BoolType):
            widget = "bool"
        elif isinstance(kind_info, msgspec.inspect.StrType):
            widget = "text"
        elif isinstance(kind_info, msgspec.inspect.LiteralType):
            widget, choices = "choice", [str(v) for v in kind_info.values]
        elif (isinstance(kind_info, msgspec.inspect.ListType)
              and isinstance(kind_info.item_type, msgspec.inspect.StrType)):
            widget = "list"
        else:
            widget = "json"
        default = None if fld.default is msgspec.NODEFAULT else fld.default
        if fld.default_factory is not msgspec.NODEFAULT:
            default = fld.default_factory()
        fields.append(ParamField(name=fld.name, title=schema.get("title") or fld.name,
                                 description=schema.get("description") or "", input=widget,
                                 required=fld.required, choices=choices,
                                 default=msgspec.to_builtins(default)))
    return fields


def params_summary(params: dict[str, Any]) -> str:
    """Parameters in one short line: ``percent=15; cap_per_unit=2000``, bands as ``≥100 2%``."""

    def shown(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(shown(v) for v in value)
        if isinstance(value, dict):
            if set(value) == {"min_quantity", "percent"}:
                return f"≥{value['min_quantity']} {value['percent']}%"
            return " ".join(f"{k}={shown(v)}" for k, v in value.items())
        return str(value)

    return "; ".join(f"{name}={shown(value)}" for name, value in params.items()
                     if value not in (None, "", [], "0", False))


def _shown_value(field: ParamField, value: Any) -> Any:
    """A stored params value as its input shows it."""
    if value is None:
        return ""
    if field.input == "list":
        return ", ".join(value)
    if field.input == "json":
        return json.dumps(value, ensure_ascii=False)
    return value


def _split(text: Any) -> list[str]:
    if isinstance(text, list):
        text = ",".join(text)
    return [part.strip() for part in str(text or "").replace("，", ",").replace("\n", ",")
            .split(",") if part.strip()]


def params_from_form(fields: list[ParamField], form: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for fld in fields:
        raw = form.get(f"params.{fld.name}")
        if fld.input == "bool":
            params[fld.name] = raw in ("on", "true", "1")
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if not fld.required and fld.default is None:
                params[fld.name] = None
            continue
        if fld.input == "list":
            params[fld.name] = _split(raw)
        elif fld.input == "json":
            try:
                params[fld.name] = json.loads(raw)
            except ValueError as exc:
                raise ValidationFailed(N_("not valid JSON"), field=f"params.{fld.name}") from exc
        else:
            params[fld.name] = raw.strip()
    return params


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key != "csrf_token":
            data[key] = value
    return data


def _date(form: dict[str, Any], name: str) -> dt.date | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(N_("give a date as YYYY-MM-DD"), field=name) from exc


def input_from_form(form: dict[str, Any], fields: list[ParamField]) -> FactorInput:
    try:
        priority = int((form.get("priority") or "0").strip())
    except ValueError as exc:
        raise ValidationFailed(N_("priority must be a whole number"), field="priority") from exc
    return FactorInput(
        name=form.get("name") or "", kind=form.get("kind") or "",
        params=params_from_form(fields, form),
        **{name: _split(form.get(name)) for name in SCOPE_FIELDS},
        audience_match=form.get("audience_match") or "all",
        valid_from=_date(form, "valid_from"), valid_to=_date(form, "valid_to"),
        enabled=form.get("enabled") in ("on", "true", "1"), priority=priority)


def _values_of(row: dict[str, Any], fields: list[ParamField]) -> dict[str, Any]:
    values = {"code": row["code"], "name": row["name"], "kind": row["kind"],
              "audience_match": row["audience_match"], "priority": row["priority"],
              "enabled": row["enabled"],
              "valid_from": row["valid_from"].isoformat() if row["valid_from"] else "",
              "valid_to": row["valid_to"].isoformat() if row["valid_to"] else ""}
    for name in SCOPE_FIELDS:
        values[name] = ", ".join(row[name] or [])
    params = row["params"] or {}
    for fld in fields:
        values[f"params.{fld.name}"] = _shown_value(fld, params.get(fld.name, fld.default))
    return values


def _defaults(kind: str, fields: list[ParamField]) -> dict[str, Any]:
    values: dict[str, Any] = {"kind": kind, "enabled": True, "audience_match": "all",
                              "priority": 0}
    for fld in fields:
        values[f"params.{fld.name}"] = _shown_value(fld, fld.default)
    return values


def _errors(exc: JimuError) -> dict[str, str]:
    errors = {item["field"]: item["message"] for item in getattr(exc, "errors", []) or []
              if item.get("field")}
    if exc.field and exc.field not in errors:
        errors[exc.field] = exc.message
    for name, message in list(errors.items()):
        # params.bands[1].percent is shown next to the params.bands input.
        top = re.match(r"^(params\.[A-Za-z0-9_]+)[.\[]", name)
        if top and top.group(1) not in errors:
            errors[top.group(1)] = message
    return errors


def _form_page(*, kind: str, offered: dict[str, Any], values: dict[str, Any],
               errors: dict[str, str] | None = None, message: str = "",
               factor: dict[str, Any] | None = None, status: int = 200) -> Template:
    chosen = offered.get(kind)
    fields = param_fields(chosen.kind.params) if chosen else []
    return Template("price_factors/form.html", status_code=status, context={
        "kinds": offered, "kind": kind, "chosen": chosen, "fields": fields, "values": values,
        "errors": errors or {}, "message": message, "factor": factor,
        "scope_fields": SCOPE_FIELDS, "can_write": has_permission("price_factors.write")})


class FactorPages(Controller):
    """The admin pages: factors by kind in pipeline order, the new/edit form, the switch."""

    path = "/"
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def index_page(self, saved: FromQuery[str | None] = None) -> Template:
        offered = services.offered_kinds()
        rows = await services.list_factors()
        groups: dict[str, list[dict[str, Any]]] = {key: [] for key in offered}
        unavailable: list[dict[str, Any]] = []
        for row in rows:
            (groups[row["kind"]] if row["kind"] in offered else unavailable).append(row)
        for key in groups:
            groups[key].sort(key=lambda r: (-r["priority"], r["code"]))
        return Template("price_factors/index.html", context={
            "kinds": offered, "groups": groups, "unavailable": unavailable, "saved": saved,
            "count": len(rows), "can_write": has_permission("price_factors.write"),
            "summaries": {row["code"]: params_summary(row["params"] or {}) for row in rows}})

    @get("/new", media_type=MediaType.HTML)
    async def new_page(self, kind: FromQuery[str | None] = None) -> Template:
        offered = services.offered_kinds()
        key = kind if kind in offered else next(iter(offered), "")
        fields = param_fields(offered[key].kind.params) if key else []
        return _form_page(kind=key, offered=offered, values=_defaults(key, fields))

    @post("/new", media_type=MediaType.HTML,
          guards=needs("price_factors.write"))
    async def create_page(self, request: Request) -> Template | Redirect:
        offered = services.offered_kinds()
        form = await _form(request)
        kind = form.get("kind") or ""
        fields = param_fields(offered[kind].kind.params) if kind in offered else []
        try:
            data = input_from_form(form, fields)
            row = await services.create_factor(form.get("code") or "", data)
        except JimuError as exc:
            return _form_page(kind=kind, offered=offered, values=form, errors=_errors(exc),
                              message="" if _errors(exc) else exc.message,
                              status=exc.status_code)
        return Redirect(f"{PAGES}/?saved={row['code']}", status_code=303)

    @get("/factors/{factor_code:str}", media_type=MediaType.HTML)
    async def edit_page(self, factor_code: str) -> Template:
        offered = services.offered_kinds()
        row = await services.get_factor(factor_code)
        chosen = offered.get(row["kind"])
        fields = param_fields(chosen.kind.params) if chosen else []
        return _form_page(kind=row["kind"], offered=offered, values=_values_of(row, fields),
                          factor=row)

    @post("/factors/{factor_code:str}", media_type=MediaType.HTML,
          guards=needs("price_factors.write"))
    async def update_page(self, factor_code: str, request: Request) -> Template | Redirect:
        offered = services.offered_kinds()
        row = await services.get_factor(factor_code)
        form = await _form(request)
        form["kind"] = row["kind"]  # the kind of a factor does not change
        chosen = offered.get(row["kind"])
        fields = param_fields(chosen.kind.params) if chosen else []
        try:
            await services.update_factor(factor_code, input_from_form(form, fields))
        except JimuError as exc:
            return _form_page(kind=row["kind"], offered=offered,
                              values={**form, "code": factor_code}, errors=_errors(exc),
                              message="" if _errors(exc) else exc.message,
                              factor=row, status=exc.status_code)
        return Redirect(f"{PAGES}/?saved={factor_code}", status_code=303)

    @post("/factors/{factor_code:str}/toggle", media_type=MediaType.HTML,
          guards=needs("price_factors.write"))
    async def toggle_page(self, factor_code: str) -> Redirect:
        await services.toggle_factor(factor_code)
        return Redirect(f"{PAGES}/?saved={factor_code}#factor-{factor_code}", status_code=303)

    @post("/factors/{factor_code:str}/delete", media_type=MediaType.HTML,
          guards=needs("price_factors.write"))
    async def delete_page(self, factor_code: str) -> Redirect:
        await services.delete_factor(factor_code)
        return Redirect(f"{PAGES}/", status_code=303)


PAGE_HANDLERS = [FactorPages]
