"""Items as the price lists plugin knows them (names, categories, search for the builder).

Only the public API of ``price_lists`` (declared in ``meta.depends``) is used. Prices never
come from here: they come from the pricing pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


async def items_by_sku(skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Known items among ``skus`` (``sku, name, category, unit, …``), keyed by SKU."""
    from jimu_price_lists import public

    return await public.items_by_sku(list(skus))


async def search_items(q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Items whose SKU or name contains ``q``, for the builder's item suggestions."""
    from jimu_price_lists import public

    return list(await public.search_items(q, limit))
