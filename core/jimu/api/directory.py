"""The API of the shared entities: customers, partners and the region tree.

The rules live in ``jimu.services.directory``; these controllers translate HTTP to its calls.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from jimu.services import directory as service
from jimu.services.directory import (  # noqa: F401 - other core modules import them from here
    CUSTOMER_LEVELS,
    PARTNER_KINDS,
    PARTNER_LEVELS,
    CustomerIn,
    CustomerPatch,
    PartnerIn,
    PartnerPatch,
    check_customer,
    check_partner,
    get_customer_row,
    mask_phone,
    visible_partner_ids,
)
from jimu.web.errors import document_errors
from jimu.web.guards import request_context, requires
from jimu.web.listing import (
    PageNumber,
    PerPage,
    RecordIdFilter,
    RecordIdParam,
    SearchParam,
    SortParam,
)
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

# ------------------------------------------------------------------------------ customers


class CustomerOut(msgspec.Struct):
    id: int
    name: str
    phone: str
    email: str
    level: str
    partner_id: int | None
    region_code: str
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerDetail(CustomerOut):
    facts: dict[str, Any] = {}
    derived_tags: list[str] = []


class CustomerPage(msgspec.Struct):
    items: list[CustomerOut]
    total: int
    page: int
    per_page: int


def customer_out(row: dict[str, Any]) -> CustomerOut:
    return CustomerOut(id=row["id"], name=row["name"], phone=mask_phone(row["phone"]),
                       email=row["email"], level=row["level"], partner_id=row["partner_id"],
                       region_code=row["region_code"], tags=list(row["tags"] or []),
                       created_at=row["created_at"], updated_at=row["updated_at"])


class CustomerController(Controller):
    path = "/api/v1/customers"
    tags = ["customers"]

    @get("/", guards=[requires("customers.read")], summary="List customers")
    async def list_customers(self, q: SearchParam = None, level: str | None = None,
                             partner_id: RecordIdFilter = None,
                             region_code: Annotated[str | None, Parameter(
                                 max_length=12)] = None,
                             sort: SortParam = None, page: PageNumber = 1,
                             per_page: PerPage = 50) -> CustomerPage:
        rows, total = await service.list_customers(
            q=q, level=level, partner_id=partner_id, region_code=region_code, sort=sort,
            page=page, per_page=per_page)
        return CustomerPage(items=[customer_out(r) for r in rows], total=total, page=page,
                            per_page=per_page)

    @post("/", guards=[requires("customers.write")], summary="Create a customer")
    async def create_customer(self, data: CustomerIn) -> CustomerOut:
        return customer_out(await service.create_customer(data))

    @get("/{customer_id:int}", guards=[requires("customers.read")],
         summary="One customer, with facts and tags from enabled plugins")
    async def get_customer(self, request: Request, customer_id: RecordIdParam) -> CustomerDetail:
        row = await get_customer_row(customer_id)
        tenant = request_context(request).tenant
        assert tenant is not None
        facts = await service.customer_facts(tenant, row)
        base = msgspec.structs.asdict(customer_out(row))
        return CustomerDetail(**base, facts=facts, derived_tags=service.derived_tags(
            request.app.state.kernel, tenant, facts))

    @patch("/{customer_id:int}", guards=[requires("customers.write")],
           summary="Change a customer")
    async def update_customer(self, customer_id: RecordIdParam, data: CustomerPatch
                              ) -> CustomerOut:
        return customer_out(await service.update_customer(customer_id, data))

    @delete("/{customer_id:int}", guards=[requires("customers.write")],
            summary="Delete a customer", status_code=HTTP_204_NO_CONTENT)
    async def delete_customer(self, customer_id: RecordIdParam) -> None:
        await service.delete_customer(customer_id)


# ------------------------------------------------------------------------------ partners


class PartnerOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    level: str
    parent_id: int | None
    region_code: str
    contact_phone: str
    created_at: dt.datetime
    updated_at: dt.datetime


class PartnerPage(msgspec.Struct):
    items: list[PartnerOut]
    total: int
    page: int
    per_page: int


def partner_out(row: dict[str, Any]) -> PartnerOut:
    return PartnerOut(id=row["id"], code=row["code"], name=row["name"], kind=row["kind"],
                      level=row["level"], parent_id=row["parent_id"],
                      region_code=row["region_code"],
                      contact_phone=mask_phone(row["contact_phone"]),
                      created_at=row["created_at"], updated_at=row["updated_at"])


class PartnerController(Controller):
    path = "/api/v1/partners"
    tags = ["partners"]

    @get("/", guards=[requires("partners.read")], summary="List partners")
    async def list_partners(self, q: SearchParam = None, kind: str | None = None,
                            level: str | None = None, parent_id: RecordIdFilter = None,
                            sort: SortParam = None, page: PageNumber = 1,
                            per_page: PerPage = 50) -> PartnerPage:
        rows, total = await service.list_partners(q=q, kind=kind, level=level,
                                                  parent_id=parent_id, sort=sort, page=page,
                                                  per_page=per_page)
        return PartnerPage(items=[partner_out(r) for r in rows], total=total, page=page,
                           per_page=per_page)

    @post("/", guards=[requires("partners.write")], summary="Create a partner")
    async def create_partner(self, data: PartnerIn) -> PartnerOut:
        return partner_out(await service.create_partner(data))

    @get("/{partner_id:int}", guards=[requires("partners.read")], summary="One partner")
    async def get_partner(self, partner_id: RecordIdParam) -> PartnerOut:
        return partner_out(await service.get_partner_row(partner_id))

    @patch("/{partner_id:int}", guards=[requires("partners.write")], summary="Change a partner")
    async def update_partner(self, partner_id: RecordIdParam, data: PartnerPatch
                             ) -> PartnerOut:
        return partner_out(await service.update_partner(partner_id, data))

    @delete("/{partner_id:int}", guards=[requires("partners.write")],
            summary="Delete a partner without children or customers",
            status_code=HTTP_204_NO_CONTENT)
    async def delete_partner(self, partner_id: RecordIdParam) -> None:
        await service.delete_partner(partner_id)


# ------------------------------------------------------------------------------ regions


class RegionOut(msgspec.Struct):
    code: str
    name: str
    parent_code: str | None
    level: str


class RegionDetail(RegionOut):
    path: list[RegionOut] = []
    children: list[RegionOut] = []


def region_out(row: dict[str, Any]) -> RegionOut:
    return RegionOut(code=row["code"], name=row["name"], parent_code=row["parent_code"],
                     level=row["level"])


class RegionController(Controller):
    path = "/api/v1/regions"
    tags = ["regions"]
    guards = [requires("regions.read")]

    @get("/", summary="Regions (GB/T 2260): provinces by default, or children of a parent")
    async def list_regions(self, parent: Annotated[str | None, Parameter(
                               pattern=r"^[0-9]{6}$")] = None,
                           level: str | None = None, q: SearchParam = None,
                           limit: Annotated[int, Parameter(ge=1, le=500)] = 100
                           ) -> list[RegionOut]:
        rows = await service.list_regions(parent=parent, level=level, q=q, limit=limit)
        return [region_out(r) for r in rows]

    @get("/{code:str}", summary="One region with its path and children")
    async def get_region(self, code: str) -> RegionDetail:
        row, path, children = await service.get_region(code)
        return RegionDetail(**msgspec.structs.asdict(region_out(row)),
                            path=[region_out(r) for r in path],
                            children=[region_out(r) for r in children])


ROUTES = document_errors([CustomerController, PartnerController, RegionController])
