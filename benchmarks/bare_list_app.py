"""The floor for ``api_list.py``: a bare litestar handler running the list SQL through asyncpg.

    BENCH_DSN=postgres://postgres@127.0.0.1:5432/jimu_bench BENCH_TENANT=1 \\
        uvicorn bare_list_app:app --app-dir benchmarks

Same two statements as Jimu's ``GET /api/v1/customers`` (one page, then the total), same tenant
filter, same columns, same pool size, same JSON shape; no authentication, no transaction and
no row-level security.
"""

from __future__ import annotations

import datetime as dt
import os

import asyncpg
import msgspec
from litestar import Litestar, get
from litestar.exceptions import ValidationException

COLUMNS = ("id", "tenant_id", "name", "phone", "email", "level", "partner_id", "region_code",
           "tags", "created_at", "updated_at")
SELECT = ", ".join(f'"core_customer"."{c}" AS "{c}"' for c in COLUMNS)
SORTABLE = ("id", "name", "level", "created_at", "updated_at")
POOL_SIZE = int(os.environ.get("JIMU_DB_POOL_SIZE", "10"))


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


class CustomerPage(msgspec.Struct):
    items: list[CustomerOut]
    total: int
    page: int
    per_page: int


pool: asyncpg.Pool | None = None
TENANT = int(os.environ.get("BENCH_TENANT", "1"))


async def open_pool() -> None:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=1, max_size=POOL_SIZE)


async def close_pool() -> None:
    if pool is not None:
        await pool.close()


def mask(phone: str) -> str:  # Jimu masks phones for callers without customers.contact
    return phone if len(phone) < 8 else phone[:-8] + "****" + phone[-4:]


@get("/customers")
async def list_customers(level: str | None = None, sort: str | None = None, page: int = 1,
                         per_page: int = 50) -> CustomerPage:
    key = sort or "-created_at"
    name = key.lstrip("-")
    if name not in SORTABLE or not 1 <= per_page <= 200 or page < 1:
        raise ValidationException("bad sort or paging")
    direction = "DESC" if key.startswith("-") else "ASC"
    where = '"core_customer"."tenant_id" = $1'
    args: list[object] = [TENANT]
    if level:
        where += ' AND "core_customer"."level" = $2'
        args.append(level)
    order = f'"core_customer"."{name}" {direction}'
    if name != "id":
        order += f', "core_customer"."id" {direction}'
    assert pool is not None
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            f'SELECT ALL {SELECT} FROM "core_customer" WHERE ({where}) ORDER BY {order} '
            f"LIMIT {per_page} OFFSET {(page - 1) * per_page}", *args)
        total = await connection.fetchval(
            f'SELECT ALL COUNT(*) AS "count" FROM "core_customer" WHERE ({where})', *args)
    items = [CustomerOut(id=r["id"], name=r["name"], phone=mask(r["phone"]), email=r["email"],
                         level=r["level"], partner_id=r["partner_id"],
                         region_code=r["region_code"],
                         tags=msgspec.json.decode(r["tags"]) if r["tags"] else [],
                         created_at=r["created_at"], updated_at=r["updated_at"])
             for r in rows]
    return CustomerPage(items=items, total=total, page=page, per_page=per_page)


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([list_customers, health], on_startup=[open_pool], on_shutdown=[close_pool])
