"""A third-party plugin adding a price factor kind: carbon credit (碳积分抵扣) at order 450."""

from decimal import Decimal
from typing import Annotated

import msgspec
from jimu_sdk import Money, PluginMeta, PriceAdjustment, PriceFactorKind, hookimpl, localized

meta = PluginMeta(name="pf_carbon", version="1.0.0", title=localized("碳积分", "Carbon credit"),
                  description=localized("碳积分抵扣", "Carbon credit"), author="tests",
                  requires_core=">=1.0,<2")


class CarbonParams(msgspec.Struct, forbid_unknown_fields=True):
    amount_per_unit: Annotated[Decimal, msgspec.Meta(extra_json_schema={"minimum": 0})]


def carbon_credit(context, previous, params):
    total = max(previous.amount - params.amount_per_unit * context.quantity, Decimal(0))
    return PriceAdjustment(Money(total, previous.currency),
                           f"碳积分抵扣 −{params.amount_per_unit}/件")


@hookimpl
def register_price_factor_kinds():
    return [PriceFactorKind(key="carbon_credit", title=localized("碳积分", "Carbon credit"),
                            order=450, params=CarbonParams, apply=carbon_credit)]
