"""The public API of the price lists plugin, for plugins that declare it as a dependency
(parts library, project library, quotations): read and search items by SKU, and keep an item
in step with a record another plugin owns (a project package mirrored as an item of kind
``package``). Semantic versioning applies.

Each answer is a plain dict: ``sku, name, unit, kind, category, list_price, cost, currency,
tax_rate, active`` (money as ``Decimal``), read from the same cached snapshot pricing uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from jimu_price_lists import services
from jimu_price_lists.engine import ItemInfo
from jimu_price_lists.schemas import ItemIn

__all__ = ["get_item", "items_by_sku", "search_items", "upsert_item"]


def _plain(item: ItemInfo) -> dict[str, Any]:
    return {"sku": item.sku, "name": item.name, "unit": item.unit, "kind": item.kind,
            "category": item.category, "list_price": item.list_price, "cost": item.cost,
            "currency": item.currency, "tax_rate": item.tax_rate, "active": item.active}


async def get_item(sku: str) -> dict[str, Any] | None:
    """The item with this SKU in the current tenant, or ``None``."""
    item = (await services.snapshot()).items.get(sku)
    return None if item is None else _plain(item)


async def items_by_sku(skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The known items among ``skus``, keyed by SKU (unknown SKUs are left out)."""
    items = (await services.snapshot()).items
    return {sku: _plain(items[sku]) for sku in dict.fromkeys(skus) if sku in items}


async def search_items(q: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """Active items whose SKU or name contains ``q``, by SKU (for pickers)."""
    rows, _ = await services.list_items(q=q, active=True, per_page=max(1, min(limit, 200)))
    return [_plain(services.engine_item(row)) for row in rows]


async def upsert_item(*, sku: str, name: str, kind: str, unit: str, category: str,
                      list_price: Decimal, cost: Decimal | None,
                      currency: str = "CNY") -> dict[str, Any]:
    """Create the item, or bring its name, kind, unit, category, list price and cost up to
    date (tax rate and active flag are left as the admin set them). Validated and audited
    like an edit in the UI; raises ``ValidationFailed`` naming the field."""
    existing = await services.item_by_sku(sku)
    if existing is None:
        await services.create_item(ItemIn(sku=sku, name=name, kind=kind, unit=unit,  # type: ignore[arg-type]
                                          category=category, list_price=list_price,
                                          cost=cost, currency=currency))
    else:
        await services.update_item(existing["id"], ItemIn(
            sku=sku, name=name, kind=kind, unit=unit, category=category,  # type: ignore[arg-type]
            list_price=list_price, cost=cost, currency=currency,
            tax_rate=existing["tax_rate"], active=existing["active"]))
    item = await get_item(sku)
    assert item is not None
    return item
