"""Request and response bodies (msgspec structs) shared by the API, pages and import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64,
                                  pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32,
                                   pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Amount = Decimal  # range checked in services (msgspec has no Decimal constraints)
TaxRate = Decimal
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=100)]

ITEM_KINDS = ("product", "part", "consumable", "service", "labour", "package")
ItemKind = Literal["product", "part", "consumable", "service", "labour", "package"]
RuleScope = Literal["item", "category", "all"]
RuleKind = Literal["fixed", "discount", "formula"]
RuleBase = Literal["list_price", "cost", "price_list"]
PARTNER_LEVELS = ("general_agent", "level1", "level2")


class ItemIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Sku
    name: Name
    list_price: Amount
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] = "件"
    kind: ItemKind = "product"
    category: Short = ""
    cost: Amount | None = None
    currency: Currency = "CNY"
    tax_rate: TaxRate = Decimal("0.13")
    active: bool = True


class ItemOut(msgspec.Struct, kw_only=True):
    id: int
    sku: str
    name: str
    unit: str
    kind: str
    category: str
    list_price: Decimal
    cost: Decimal | None
    currency: str
    tax_rate: Decimal
    active: bool


class PriceListIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    name: Name
    currency: Currency = "CNY"


class PriceListOut(msgspec.Struct, kw_only=True):
    id: int
    code: str
    name: str
    currency: str
    entries: int = 0


class EntryIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Sku
    price: Amount


class EntryOut(msgspec.Struct, kw_only=True):
    id: int
    sku: str
    price: Decimal


class BreakIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    min_qty: Decimal
    value: Decimal
    max_qty: Decimal | None = None


class RuleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    kind: RuleKind
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    scope: RuleScope = "item"
    sku: Annotated[str, msgspec.Meta(max_length=64)] = ""
    category: Short = ""
    value: Decimal | None = None
    base: RuleBase = "list_price"
    price_list: Annotated[str, msgspec.Meta(max_length=32)] = ""
    surcharge: Decimal | None = None
    rounding_step: Decimal | None = None
    min_margin: Decimal | None = None
    max_margin: Decimal | None = None
    breaks: Annotated[list[BreakIn], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    regions: Tags = msgspec.field(default_factory=list)
    partner_levels: Tags = msgspec.field(default_factory=list)
    partner_tiers: Tags = msgspec.field(default_factory=list)
    customer_levels: Tags = msgspec.field(default_factory=list)
    channels: Tags = msgspec.field(default_factory=list)
    priority: Annotated[int, msgspec.Meta(ge=-1000000, le=1000000)] = 0
    enabled: bool = True
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class RuleOut(RuleIn, kw_only=True):
    id: int = 0


class ImportRowError(msgspec.Struct):
    row: int
    field: str
    message: str


class ImportReport(msgspec.Struct):
    kind: str
    dry_run: bool
    rows: int
    created: int
    updated: int
    written: bool
    errors: list[ImportRowError]
