"""The public API of the parts library, for plugins that declare ``parts`` as a dependency
(project library, quotations, work orders). Semantic versioning applies.

Every function runs in the caller's tenant scope and transaction: a refused reservation
raises ``Conflict`` (409, naming the part and what is available) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jimu_parts import services

__all__ = ["available", "consume", "is_stocked", "release", "reservation", "reserve", "unit_cost"]


async def is_stocked(sku: str) -> bool:
    """Whether ``sku`` is an active part of the parts library."""
    return await services.is_stocked(sku)


async def reserve(ref: str, sku: str, quantity: Decimal | int | str, warehouse: str | None = None,
                  expires_at: dt.datetime | None = None, *, region_code: str | None = None,
                  field: str = "quantity") -> dict[str, Any]:
    """Hold ``quantity`` of ``sku`` under the unique reference ``ref`` (e.g.
    ``"order:12:3"``) in ``warehouse`` (a code; by default the part's default warehouse, then
    one in ``region_code``, then the one with most available). It expires at ``expires_at``
    (default: the ``reservation_hours`` setting from now). Returns the reservation."""
    return await services.reserve(ref=ref, sku=sku, quantity=quantity, warehouse=warehouse,
                                  expires_at=expires_at, region_code=region_code, field=field)


async def release(ref: str) -> dict[str, Any]:
    """Give an active reservation's units back to available stock."""
    return await services.release(ref)


async def consume(ref: str, quantity: Decimal | int | str | None = None) -> Decimal:
    """Use ``quantity`` (default: all) of the reservation ``ref``, releasing the rest; returns
    the cost booked (quantity × moving average cost at this moment)."""
    return (await services.consume(ref, quantity))[1]


async def reservation(ref: str) -> dict[str, Any] | None:
    """The reservation ``ref`` (status, quantity, consumed, unit_cost, cost) or ``None``."""
    from jimu_parts.tables import Reservation

    return await Reservation.scoped_select().where(Reservation.ref == ref).first()


async def available(sku: str, warehouse: str | None = None) -> Decimal:
    """On hand minus reserved, in one warehouse (a code) or all of them."""
    return await services.available(sku, warehouse)


async def unit_cost(sku: str, warehouse: str | None = None) -> Decimal | None:
    """The moving average cost of ``sku`` (``None`` when none is in stock)."""
    return await services.unit_cost(sku, warehouse)
