"""Customers (客户), partners (合作伙伴) and the region tree (区域) in the admin UI.

Every read and write goes through ``jimu.services.directory``, the same functions the API
calls, so a partner user sees only its own organisation here too.
"""

from __future__ import annotations

from typing import Any

from jimu_sdk.errors import JimuError
from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from jimu.services import directory as service
from jimu.services.directory import (
    CUSTOMER_LEVEL_TITLES,
    CUSTOMER_SORTS,
    PARTNER_KIND_TITLES,
    PARTNER_LEVEL_TITLES,
    PARTNER_SORTS,
    REGION_LEVEL_TITLES,
    CustomerIn,
    CustomerPatch,
    PartnerIn,
    PartnerPatch,
)
from jimu.web.forms import belongs_on_form, failed_form, parse_form
from jimu.web.guards import request_context, requires
from jimu.web.list_view import (
    Cell,
    Column,
    Filter,
    ListState,
    ListView,
    collect_all,
    export_format,
    export_response,
    list_page,
    options,
)
from jimu.web.pages_support import FormState, _, flash_text, form_data, kernel_of, page, redirect
from jimu.web.ui import format_datetime, ui


def _titles(mapping: dict[str, str]) -> dict[str, str]:
    return {key: _(title) for key, title in mapping.items()}


async def _partner_labels() -> tuple[list[dict[str, Any]], dict[int, str]]:
    choices = await service.partner_choices()
    return choices, {p["id"]: f"{p['name']} ({p['code']})" for p in choices}


# ------------------------------------------------------------------------------ customers


def _customer_columns() -> list[Column]:
    return [Column("name", _("Name"), sort="name"), Column("phone", _("Phone")),
            Column("email", _("Email")), Column("level", _("Level"), sort="level"),
            Column("partner", _("Partner")), Column("region", _("Region")),
            Column("created_at", _("Created"), sort="created_at")]


async def _customer_cells(rows: list[dict[str, Any]], partners: dict[int, str]
                          ) -> list[list[Cell]]:
    regions = await service.region_names([r["region_code"] for r in rows])
    levels = _titles(CUSTOMER_LEVEL_TITLES)
    return [[Cell(r["name"], href=f"/admin/customers/{r['id']}"),
             Cell(service.mask_phone(r["phone"])), Cell(r["email"]),
             Cell(levels.get(r["level"], r["level"]), badge=f"level-{r['level']}",
                  export=levels.get(r["level"], r["level"])),
             Cell(partners.get(r["partner_id"], "") if r["partner_id"] else ""),
             Cell(regions.get(r["region_code"], r["region_code"])),
             Cell(format_datetime(r["created_at"], "short"), export=r["created_at"])]
            for r in rows]


@get("/admin/customers", include_in_schema=False, guards=[requires("customers.read")])
async def customers(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=CUSTOMER_SORTS, default_sort="-created_at",
                           filters=("level", "partner_id"))
    choices, partners = await _partner_labels()

    async def fetch(page_number: int, per_page: int) -> tuple[list[Any], int]:
        return await service.list_customers(
            q=state.q or None, level=state.value("level"),
            partner_id=state.int_value("partner_id"), sort=state.sort, page=page_number,
            per_page=per_page)

    columns = _customer_columns()
    fmt = export_format(request)
    if fmt:
        rows, cut = await collect_all(fetch)
        return export_response(fmt, "customers", columns, await _customer_cells(rows, partners),
                               cut=cut)
    rows, total = await fetch(state.page, state.per_page)
    view = ListView(
        state=state, columns=columns, rows=await _customer_cells(rows, partners), total=total,
        search_label=_("Search name, email or phone"),
        empty=_("No customers match these filters."),
        filters=[Filter("level", _("Level"), options(_titles(CUSTOMER_LEVEL_TITLES),
                                                     all_label=_("All levels"))),
                 Filter("partner_id", _("Partner"), options(
                     {str(p["id"]): partners[p["id"]] for p in choices},
                     all_label=_("All partners")))])
    return list_page(request, "core/customers.html", view, flash=flash_text(request),
                     can_write=ui().can("customers.write"))


async def _customer_form(request: Request, form: FormState, *, customer: dict[str, Any] | None,
                         status: int = 200, facts: dict[str, Any] | None = None,
                         tags: list[str] | None = None) -> Template:
    choices, partners = await _partner_labels()
    region_name = ""
    code = form.values.get("region_code") or ""
    if code:
        region_name = (await service.region_names([str(code)])).get(str(code), "")
    return page("core/customer_form.html", status=status, form=form, customer=customer,
                levels=list(_titles(CUSTOMER_LEVEL_TITLES).items()),
                partners=[("", _("No partner"))] + [(str(p["id"]), partners[p["id"]])
                                                    for p in choices],
                region_name=region_name, facts=facts or {}, tags=tags or [],
                flash=flash_text(request), can_write=ui().can("customers.write"))


@get("/admin/customers/new", include_in_schema=False, guards=[requires("customers.write")])
async def new_customer(request: Request) -> Template:
    return await _customer_form(request, FormState(values={"level": "regular"}),
                                customer=None)


@post("/admin/customers/new", include_in_schema=False, guards=[requires("customers.write")])
async def create_customer(request: Request) -> Template | Redirect:
    data = await form_data(request)
    try:
        row = await service.create_customer(parse_form(CustomerIn, data))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _customer_form(request, failed_form(data, exc), customer=None,
                                    status=exc.status_code)
    return redirect(f"/admin/customers/{row['id']}", flash=_("Customer created."))


def _customer_values(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "phone": service.mask_phone(row["phone"]),
            "email": row["email"], "level": row["level"],
            "partner_id": row["partner_id"] or "", "region_code": row["region_code"]}


@get("/admin/customers/{customer_id:int}", include_in_schema=False,
     guards=[requires("customers.read")])
async def customer_detail(request: Request, customer_id: int) -> Template:
    row = await service.get_customer_row(customer_id)
    tenant = request_context(request).tenant
    assert tenant is not None
    facts = await service.customer_facts(tenant, row)
    tags = service.derived_tags(kernel_of(request), tenant, facts)
    return await _customer_form(request, FormState(values=_customer_values(row)),
                                customer=row, facts=facts, tags=[*row["tags"], *tags])


@post("/admin/customers/{customer_id:int}", include_in_schema=False,
      guards=[requires("customers.write")])
async def update_customer(request: Request, customer_id: int) -> Template | Redirect:
    row = await service.get_customer_row(customer_id)
    data = await form_data(request)
    try:
        await service.update_customer(customer_id, parse_form(CustomerPatch, data))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _customer_form(request, failed_form(data, exc), customer=row,
                                    status=exc.status_code)
    return redirect(f"/admin/customers/{customer_id}", flash=_("Changes saved."))


@post("/admin/customers/{customer_id:int}/delete", include_in_schema=False,
      guards=[requires("customers.write")])
async def delete_customer(customer_id: int) -> Redirect:
    await service.delete_customer(customer_id)
    return redirect("/admin/customers", flash=_("Customer deleted."))


# ------------------------------------------------------------------------------ partners


def _partner_columns() -> list[Column]:
    return [Column("code", _("Code"), sort="code"), Column("name", _("Name"), sort="name"),
            Column("kind", _("Kind"), sort="kind"), Column("level", _("Level"), sort="level"),
            Column("parent", _("Parent")), Column("region", _("Region")),
            Column("contact_phone", _("Contact phone")),
            Column("created_at", _("Created"), sort="created_at")]


async def _partner_cells(rows: list[dict[str, Any]], partners: dict[int, str]
                         ) -> list[list[Cell]]:
    regions = await service.region_names([r["region_code"] for r in rows])
    kinds, levels = _titles(PARTNER_KIND_TITLES), _titles(PARTNER_LEVEL_TITLES)
    return [[Cell(r["code"], href=f"/admin/partners/{r['id']}"), Cell(r["name"]),
             Cell(kinds.get(r["kind"], r["kind"])),
             Cell(levels.get(r["level"], r["level"]) if r["level"] else ""),
             Cell(partners.get(r["parent_id"], "") if r["parent_id"] else ""),
             Cell(regions.get(r["region_code"], r["region_code"])),
             Cell(service.mask_phone(r["contact_phone"])),
             Cell(format_datetime(r["created_at"], "short"), export=r["created_at"])]
            for r in rows]


@get("/admin/partners", include_in_schema=False, guards=[requires("partners.read")])
async def partners(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=PARTNER_SORTS, default_sort="code",
                           filters=("kind", "level", "parent_id"))
    choices, labels = await _partner_labels()
    level = state.filters.get("level", "")

    async def fetch(page_number: int, per_page: int) -> tuple[list[Any], int]:
        return await service.list_partners(
            q=state.q or None, kind=state.value("kind"),
            level=None if level == "" else ("" if level == "none" else level),
            parent_id=state.int_value("parent_id"), sort=state.sort, page=page_number,
            per_page=per_page)

    columns = _partner_columns()
    fmt = export_format(request)
    if fmt:
        rows, cut = await collect_all(fetch)
        return export_response(fmt, "partners", columns, await _partner_cells(rows, labels),
                               cut=cut)
    rows, total = await fetch(state.page, state.per_page)
    level_options = {("none" if k == "" else k): v
                     for k, v in _titles(PARTNER_LEVEL_TITLES).items()}
    view = ListView(
        state=state, columns=columns, rows=await _partner_cells(rows, labels), total=total,
        search_label=_("Search code or name"), empty=_("No partners match these filters."),
        filters=[Filter("kind", _("Kind"), options(_titles(PARTNER_KIND_TITLES),
                                                   all_label=_("All kinds"))),
                 Filter("level", _("Level"), options(level_options, all_label=_("All levels"))),
                 Filter("parent_id", _("Parent"), options(
                     {str(p["id"]): labels[p["id"]] for p in choices},
                     all_label=_("Any parent")))])
    return list_page(request, "core/partners.html", view, flash=flash_text(request),
                     can_write=ui().can("partners.write"))


async def _partner_form(request: Request, form: FormState, *, partner: dict[str, Any] | None,
                        status: int = 200) -> Template:
    choices, labels = await _partner_labels()
    children: list[dict[str, Any]] = []
    customer_count = 0
    if partner is not None:
        children = [p for p in choices if p["parent_id"] == partner["id"]]
        _rows, customer_count = await service.list_customers(partner_id=partner["id"],
                                                             per_page=1)
    code = str(form.values.get("region_code") or "")
    region_name = (await service.region_names([code])).get(code, "") if code else ""
    own = partner["id"] if partner else None
    return page("core/partner_form.html", status=status, form=form, partner=partner,
                kinds=list(_titles(PARTNER_KIND_TITLES).items()),
                levels=list(_titles(PARTNER_LEVEL_TITLES).items()),
                parents=[("", _("None (top level)"))] + [
                    (str(p["id"]), labels[p["id"]]) for p in choices if p["id"] != own],
                children=children, customer_count=customer_count, region_name=region_name,
                flash=flash_text(request), can_write=ui().can("partners.write"))


@get("/admin/partners/new", include_in_schema=False, guards=[requires("partners.write")])
async def new_partner(request: Request) -> Template:
    return await _partner_form(request, FormState(values={"kind": "dealer"}), partner=None)


@post("/admin/partners/new", include_in_schema=False, guards=[requires("partners.write")])
async def create_partner(request: Request) -> Template | Redirect:
    data = await form_data(request)
    try:
        row = await service.create_partner(parse_form(PartnerIn, data))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _partner_form(request, failed_form(data, exc), partner=None,
                                   status=exc.status_code)
    return redirect(f"/admin/partners/{row['id']}", flash=_("Partner created."))


def _partner_values(row: dict[str, Any]) -> dict[str, Any]:
    return {"code": row["code"], "name": row["name"], "kind": row["kind"],
            "level": row["level"], "parent_id": row["parent_id"] or "",
            "region_code": row["region_code"],
            "contact_phone": service.mask_phone(row["contact_phone"])}


@get("/admin/partners/{partner_id:int}", include_in_schema=False,
     guards=[requires("partners.read")])
async def partner_detail(request: Request, partner_id: int) -> Template:
    row = await service.get_partner_row(partner_id)
    return await _partner_form(request, FormState(values=_partner_values(row)), partner=row)


@post("/admin/partners/{partner_id:int}", include_in_schema=False,
      guards=[requires("partners.write")])
async def update_partner(request: Request, partner_id: int) -> Template | Redirect:
    row = await service.get_partner_row(partner_id)
    data = await form_data(request)
    try:
        await service.update_partner(partner_id, parse_form(PartnerPatch, data))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _partner_form(request, failed_form({**data, "code": row["code"]}, exc),
                                   partner=row, status=exc.status_code)
    return redirect(f"/admin/partners/{partner_id}", flash=_("Changes saved."))


@post("/admin/partners/{partner_id:int}/delete", include_in_schema=False,
      guards=[requires("partners.write")])
async def delete_partner(request: Request, partner_id: int) -> Template | Redirect:
    row = await service.get_partner_row(partner_id)
    try:
        await service.delete_partner(partner_id)
    except JimuError as exc:
        if exc.status_code != 409:
            raise
        return await _partner_form(request, failed_form(_partner_values(row), exc),
                                   partner=row, status=409)
    return redirect("/admin/partners", flash=_("Partner deleted."))


# ------------------------------------------------------------------------------ regions


@get("/admin/regions", include_in_schema=False, guards=[requires("regions.read")])
async def regions(request: Request) -> Template:
    """The GB/T 2260 tree: provinces, then a region's path and children; or a search."""
    q = (request.query_params.get("q") or "").strip()[:50]
    code = request.query_params.get("code") or ""
    levels = _titles(REGION_LEVEL_TITLES)
    if q:
        found = await service.list_regions(q=q, limit=200)
        paths = {r["code"]: [p["name"] for p in (await service.get_region(r["code"]))[1]]
                 for r in found[:50]}
        return page("core/regions.html", q=q, found=found, paths=paths, levels=levels,
                    region=None, path=[], children=[])
    if code.isdigit() and len(code) == 6:
        region, path, children = await service.get_region(code)
    else:
        region, path, children = None, [], await service.list_regions()
    return page("core/regions.html", q="", found=None, paths={}, levels=levels,
                region=region, path=path, children=children)


ROUTES = [customers, new_customer, create_customer, customer_detail, update_customer,
          delete_customer, partners, new_partner, create_partner, partner_detail,
          update_partner, delete_partner, regions]
