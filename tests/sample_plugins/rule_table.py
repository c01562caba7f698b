"""A data-driven price step: rules kept in a ledger-like table, loaded once per pricing call
through ``platform().cached`` and reloaded only after ``platform().invalidate``."""

from decimal import Decimal

from jimu_sdk import (
    BasePrice,
    Money,
    PluginMeta,
    PriceAdjustment,
    PricePass,
    PriceStep,
    RuleConsidered,
    ValidationFailed,
    hookimpl,
    localized,
    platform,
)

meta = PluginMeta(name="rule_table", version="1.0.0", title=localized("规则表", "Rule table"),
                  description=localized("按区域打折", "Discounts per region"), author="tests",
                  requires_core=">=1.0")

# What the "database" holds; tests change it and call invalidate, loads are counted.
STORE: dict[str, Decimal] = {}
LOADS: list[dict[str, Decimal]] = []


async def load_rules() -> dict[str, Decimal]:
    snapshot = dict(STORE)
    LOADS.append(snapshot)
    return snapshot


async def prepare(contexts):
    rules = await platform().cached("rule_table.rules", load_rules)
    if "SKIP" in rules:  # nothing to do for these lines: the step sits the call out
        return None

    def apply(context, previous):
        if "BROKEN" in rules:  # a plugin bug: a total that is not a number
            return PriceAdjustment(Money("Infinity"), "broken")
        path = context.facts.get("region.path", ())
        matching = [code for code in path if code in rules]
        considered = tuple(RuleConsidered(rule=code, reason=f"region {code} not in "
                                          f"{'/'.join(path) or 'none'}")
                           for code in sorted(rules) if code not in path
                           ) if context.explain else ()
        if not matching:
            return PricePass(considered=considered)
        code = matching[-1]  # the deepest region wins
        return PriceAdjustment(previous * (1 - rules[code] / 100), f"{code} −{rules[code]}%",
                               rule=code, facts={"region.code": context.facts["region.code"]},
                               considered=considered)

    return apply


@hookimpl
async def pricing_facts(contexts):
    for context in contexts:
        if context.item == "discontinued":
            raise ValidationFailed("item discontinued is no longer sold", field="item")
    return None


@hookimpl
def resolve_base_price(context):
    if context.item == "bad-unit":
        return BasePrice(Money("0.333"), rule="odd", reason="a price with a third of a cent")
    if context.item == "usd-item":
        return BasePrice(Money("10", "USD"), rule="usd", reason="priced in dollars")
    if context.item == "crash-item":  # a plugin bug
        raise KeyError("price table not loaded")
    return None


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="region-discount", order=150, prepare=prepare)]
