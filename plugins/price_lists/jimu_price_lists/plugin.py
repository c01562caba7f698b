"""Price lists and rules (价目表与价格规则): the items (SKU, unit, list price, cost, tax rate),
named price lists, and ordered price rules (fixed, discount, formula with margins) with
quantity breaks, validity dates and conditions on region, partner level, partner tier,
customer level and channel. Gives the base price (the list price) and the ``price-rules``
step (order 100) of the pricing pipeline; see ``docs/pricing.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jimu_sdk import (
    AdminPage,
    BasePrice,
    MenuItem,
    Money,
    Permission,
    PluginMeta,
    PriceContext,
    PriceStep,
    hookimpl,
    localized,
)

from jimu_price_lists import api, demo, engine, pages, services

meta = PluginMeta(
    name="price_lists",
    version="0.1.0",
    title=localized("价目表与价格规则", "Price lists and rules"),
    description=localized(
        "商品与服务项目、价目表，以及按区域、合作伙伴等级、档位、客户等级和渠道生效的价格规则"
        "（固定价、折扣、公式定价、数量阶梯），保存时检查冲突。",
        "Items and services, price lists, and price rules (fixed, discount, formula, quantity "
        "breaks) by region, partner level, tier, customer level and channel, with conflicts "
        "found when saving."),
    author="Jimu team",
    requires_core=">=1.0,<2",
)


@hookimpl
def register_piccolo_app():
    return "jimu_price_lists.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=pages.PriceListPages,
                      title=localized("价目表", "Price lists"),
                      permission="price_lists.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="price_lists", title=localized("价目表", "Price lists"),
                     href="/admin/p/price_lists/", permission="price_lists.read", order=60,
                     icon="tag")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="price_lists.read", title=localized("查看价目表与价格规则",
                                                           "View price lists and rules"),
                   default_roles=("admin", "staff")),
        Permission(key="price_lists.write", title=localized("管理价目表与价格规则",
                                                            "Manage price lists and rules"),
                   default_roles=("admin",)),
    ]


@hookimpl
def register_demo_data():
    return demo.seed


# ----------------------------------------------------------------------------- pricing


@hookimpl
async def pricing_facts(contexts: Sequence[PriceContext]) -> list[dict[str, Any]]:
    """The item's facts. An unknown or inactive SKU gets none, so no base price is found
    and core refuses the line with a 4xx naming ``item`` / ``lines[i].item``. (Raising
    ``ValidationFailed`` here would be wrapped by core's fail-closed hook guard into a 500;
    see README.)"""
    snap = await services.snapshot()
    answers: list[dict[str, Any]] = []
    for context in contexts:
        item = snap.items.get(context.item)
        if item is None or not item.active:
            answers.append({})
            continue
        answers.append(snap.item_facts(item))
    return answers


@hookimpl
def resolve_base_price(context: PriceContext) -> BasePrice | None:
    facts = context.facts
    price = facts.get("price_lists.list_price")
    if price is None:
        return None
    currency = facts.get("price_lists.currency") or context.currency
    return BasePrice(Money(price, currency), "list-price",
                     _base_reason(price, facts.get("price_lists.unit", "")),
                     {"price_lists.list_price": price})


# The reason of a list price, by the identity of the snapshot's Decimal (an equal number
# may be written differently, "5.5" / "5.50"); the entry holds the number, so its id stays.
_BASE_REASONS: dict[int, tuple[Any, str, str]] = {}


def _base_reason(price: Any, unit: str) -> str:
    known = _BASE_REASONS.get(id(price))
    if known is not None and known[0] is price and known[1] == unit:
        return known[2]
    reason = f"list price {engine._fmt(price)}/{unit}"
    if len(_BASE_REASONS) >= 50_000:
        _BASE_REASONS.clear()
    _BASE_REASONS[id(price)] = (price, unit, reason)
    return reason


async def prepare_rules(contexts: Sequence[PriceContext]):
    snap = await services.snapshot()
    return functools.partial(engine.price_line, snap)  # no frame of our own per line


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="price-rules", order=100, prepare=prepare_rules,
                      title=localized("价格规则", "Price rules"))]
