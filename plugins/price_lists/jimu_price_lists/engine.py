"""The price rule engine: pure, database-free selection and arithmetic.

A :class:`Snapshot` holds a tenant's items, price list entries and enabled rules, indexed at
load time: item rules by sku, category rules by category, all-items rules once. The
candidates of one (sku, category) pair are merged and pre-sorted by their *static* rank once
(then memoised), so pricing a line walks a short, already-ordered list and stops at the first
rule that cannot beat the best match so far. Nothing here sorts per line.

Which rule wins (``docs/pricing.md``, "Which rule wins"), larger is better except the code:

1. specificity: scope (item 2 > category 1 > all 0), then the number of non-empty conditions,
   then the depth of the matched region (province 1, city 2, district 3; a zone match 0);
2. priority;
3. the newest ``valid_from`` (``None`` is oldest);
4. the smallest rule code.

The static rank uses the rule's deepest listed region as an upper bound of its actual depth,
so the walk can stop once the next candidate's upper bound is below the best actual rank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jimu_sdk import Money, PriceAdjustment, PriceContext, PricePass, RuleConsidered

SCOPE_RANK = {"item": 2, "category": 1, "all": 0}
SCOPE_NAME = {2: "item", 1: "category", 0: "all items"}
HUNDRED = Decimal(100)
ONE = Decimal(1)
ZERO = Decimal(0)
NO_DATE = -1  # ordinal of a missing valid_from: older than any date


@dataclass(frozen=True, slots=True)
class Break:
    min_qty: Decimal
    max_qty: Decimal | None  # exclusive; None = open
    value: Decimal


@dataclass(frozen=True, slots=True)
class ItemInfo:
    sku: str
    name: str
    unit: str
    kind: str
    category: str
    list_price: Decimal
    cost: Decimal | None
    currency: str
    tax_rate: Decimal
    active: bool = True


@dataclass(slots=True)
class Rule:
    """One enabled price rule, as the engine sees it (values already Decimal)."""

    code: str
    scope: str  # item | category | all
    kind: str  # fixed | discount | formula
    sku: str = ""
    category: str = ""
    value: Decimal | None = None
    breaks: tuple[Break, ...] = ()
    base: str = "list_price"  # list_price | cost | price_list
    price_list: str = ""
    surcharge: Decimal | None = None
    rounding_step: Decimal | None = None
    min_margin: Decimal | None = None  # percent
    max_margin: Decimal | None = None  # percent
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    regions: tuple[str, ...] = ()
    partner_levels: tuple[str, ...] = ()
    partner_tiers: tuple[str, ...] = ()
    customer_levels: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    priority: int = 0
    # derived at load
    region_depths: Mapping[str, int] = field(default_factory=dict)
    scope_rank: int = 0
    n_conditions: int = 0
    max_depth: int = 0
    vf_ordinal: int = NO_DATE
    upper: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    region_set: frozenset[str] = frozenset()
    # (allowed values, fact, label) of each non-empty condition on a fact, in checking order
    fact_checks: tuple[tuple[tuple[str, ...], str, str], ...] = ()
    # By id of the rule's own value and break values (alive as long as the rule): each as
    # reasons show it, and the share a discount of it leaves (1 - value/100).
    numbers: dict[int, tuple[str, Decimal]] = field(default_factory=dict)

    def finish(self, depth_of: Mapping[str, int] | None = None) -> Rule:
        """Derive the ranking fields; ``depth_of`` gives a region code's depth (0 = zone)."""
        depths = depth_of or {}
        self.region_depths = {code: depths.get(code, 0) for code in self.regions}
        self.region_set = frozenset(self.regions)
        self.scope_rank = SCOPE_RANK[self.scope]
        self.n_conditions = sum(1 for c in (self.regions, self.partner_levels,
                                            self.partner_tiers, self.customer_levels,
                                            self.channels) if c)
        self.max_depth = max(self.region_depths.values(), default=0)
        self.vf_ordinal = self.valid_from.toordinal() if self.valid_from else NO_DATE
        self.upper = (self.scope_rank, self.n_conditions, self.max_depth, self.priority,
                      self.vf_ordinal)
        self.numbers = {id(v): (_fmt(v), ONE - v / HUNDRED)
                        for v in (self.value, *(b.value for b in self.breaks)) if v is not None}
        self.fact_checks = tuple(
            (values, key, label) for values, key, label in (
                (self.partner_levels, "partner.level", "partner level"),
                (self.partner_tiers, "price_tiers.tier", "partner tier"),
                (self.customer_levels, "customer.level", "customer level"),
                (self.channels, "channel", "channel")) if values)
        return self


def static_order(rule: Rule) -> tuple[Any, ...]:
    s, n, d, p, v = rule.upper
    return (-s, -n, -d, -p, -v, rule.code)


class Snapshot:
    """A tenant's pricing data, indexed for the per-line walk."""

    __slots__ = (
        "_item_facts",
        "_merged",
        "all_rules",
        "by_category",
        "by_sku",
        "entries",
        "items",
        "rule_count",
    )

    def __init__(self, items: Mapping[str, ItemInfo], entries: Mapping[tuple[str, str], Decimal],
                 rules: Iterable[Rule]) -> None:
        self.items = dict(items)
        self.entries = dict(entries)
        by_sku: dict[str, list[Rule]] = {}
        by_category: dict[str, list[Rule]] = {}
        all_rules: list[Rule] = []
        count = 0
        for rule in rules:
            count += 1
            if rule.scope == "item":
                by_sku.setdefault(rule.sku, []).append(rule)
            elif rule.scope == "category":
                by_category.setdefault(rule.category, []).append(rule)
            else:
                all_rules.append(rule)
        self.by_sku = {k: sorted(v, key=static_order) for k, v in by_sku.items()}
        self.by_category = {k: sorted(v, key=static_order) for k, v in by_category.items()}
        self.all_rules = sorted(all_rules, key=static_order)
        self._merged: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self._item_facts: dict[str, Mapping[str, Any]] = {}
        self.rule_count = count

    def item_facts(self, item: ItemInfo) -> Mapping[str, Any]:
        """The ``price_lists.*`` facts of an item, built once per snapshot (core copies them
        into each line's facts, never changes them)."""
        facts = self._item_facts.get(item.sku)
        if facts is None:
            facts = self._item_facts[item.sku] = {
                "price_lists.list_price": item.list_price,
                "price_lists.cost": item.cost,
                "price_lists.kind": item.kind,
                "price_lists.category": item.category,
                "price_lists.unit": item.unit,
                "price_lists.tax_rate": item.tax_rate,
                "price_lists.currency": item.currency,
                "price_lists.name": item.name,
            }
        return facts

    def candidates(self, sku: str, category: str) -> tuple[Rule, ...]:
        key = (sku, category)
        merged = self._merged.get(key)
        if merged is None:
            # Scopes never interleave (scope rank leads the order): concatenation is sorted.
            merged = self._merged[key] = (*self.by_sku.get(sku, ()),
                                          *self.by_category.get(category, ()),
                                          *self.all_rules)
        return merged


# --------------------------------------------------------------------------- matching


def _quantity_value(rule: Rule, quantity: Decimal) -> Decimal | bool | None:
    """The break value for ``quantity``; ``rule.value`` without breaks; False if none fits."""
    if not rule.breaks:
        return rule.value
    for brk in rule.breaks:
        if quantity >= brk.min_qty and (brk.max_qty is None or quantity < brk.max_qty):
            return brk.value
    return False


def _fmt(value: Any) -> str:
    if value.__class__ is Decimal:
        text = str(value)
        if "." not in text and "E" not in text:
            return text  # a plain whole number (most quantities): already as shown
        return format(value.normalize(), "f") if value == value.to_integral() else text
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, list | tuple | frozenset | set):
        return "[" + ", ".join(str(v) for v in sorted(value)) + "]"
    return str(value)


def _match(rule: Rule, facts: Mapping[str, Any], quantity: Decimal, on_date: dt.date,
           explain: bool) -> tuple[int, Any, str]:
    """Match conditions, dates and quantity: ``(depth, break value, "")`` or
    ``(-1, None, reason)`` (the reason only when ``explain``)."""
    if rule.valid_from is not None and on_date < rule.valid_from:
        return -1, None, f"valid from {rule.valid_from.isoformat()}" if explain else ""
    if rule.valid_to is not None and on_date > rule.valid_to:
        return -1, None, f"expired on {rule.valid_to.isoformat()}" if explain else ""
    depth = 0
    if rule.regions:
        path = facts.get("region.path") or ()
        zones = facts.get("regional_pricing.zones") or ()
        depth = -1
        for index, code in enumerate(path):
            if code in rule.region_set:
                depth = index + 1  # deeper codes come later: keep the deepest
        if depth < 0:
            for zone in zones:
                if zone in rule.region_set:
                    depth = 0
                    break
            else:
                if not explain:
                    return -1, None, ""
                where = path[-1] if path else "none"
                if zones:
                    where = f"{where} (zones {_fmt(zones)})"
                return -1, None, f"region {where} not in {_fmt(rule.regions)}"
    for values, key, label in rule.fact_checks:
        fact = facts.get(key)
        if fact not in values:
            if not explain:
                return -1, None, ""
            shown = "none" if fact in (None, "") else fact
            return -1, None, f"{label} {shown} not in {_fmt(values)}"
    value = rule.value if not rule.breaks else _quantity_value(rule, quantity)
    if value is False:
        if not explain:
            return -1, None, ""
        first = rule.breaks[0]
        if quantity < first.min_qty:
            return -1, None, (f"quantity {_fmt(quantity)} below the first break "
                              f"{_fmt(first.min_qty)}")
        return -1, None, f"quantity {_fmt(quantity)} outside the breaks"
    return depth, value, ""


def round_step(amount: Decimal, step: Decimal) -> Decimal:
    return (amount / step).quantize(ONE, rounding=ROUND_HALF_UP) * step


def _compute(rule: Rule, value: Any, item: ItemInfo, entries: Mapping[tuple[str, str], Decimal],
             quantity: Decimal, previous: Decimal, explain: bool
             ) -> tuple[Decimal | None, str]:
    """The new total, and a reason; ``(None, why not)`` when the rule cannot apply."""
    kind = rule.kind
    if kind == "fixed":
        known = rule.numbers.get(id(value))
        return value * quantity, (f"fixed price {known[0] if known else _fmt(value)} × "
                                  f"{_fmt(quantity)}")
    if kind == "discount":
        pct = value or ZERO
        text, keep = rule.numbers.get(id(pct)) or (_fmt(pct), ONE - pct / HUNDRED)
        return previous * keep, f"{text}% off"
    # formula
    cost = item.cost
    if rule.base == "list_price":
        base, base_label = item.list_price, "list price"
    elif rule.base == "cost":
        if cost is None:
            return None, "needs a cost: the item has none"
        base, base_label = cost, "cost"
    else:
        found = entries.get((rule.price_list, item.sku))
        if found is None:
            return None, f"price list {rule.price_list} has no price for {item.sku}"
        base, base_label = found, f"price list {rule.price_list}"
    if (rule.min_margin is not None or rule.max_margin is not None) and cost is None:
        return None, "a margin needs a cost: the item has none"
    unit = base
    # Reasons reach partners and customers (quotations, their PDFs): never a cost or a
    # margin in them. The admin sees those as facts (price simulator).
    parts = ["cost-plus" if rule.base == "cost" else f"{base_label} {_fmt(base)}"]
    if value:
        unit = unit * (ONE - value / HUNDRED)
        parts.append(f"−{_fmt(value)}%")
    if rule.surcharge:
        unit = unit + rule.surcharge
        parts.append(f"+{_fmt(rule.surcharge)}")
    if rule.rounding_step:
        unit = round_step(unit, rule.rounding_step)
        parts.append(f"rounded to {_fmt(rule.rounding_step)}")
    if cost is not None:
        if rule.min_margin is not None:
            floor = cost / (ONE - rule.min_margin / HUNDRED)
            if unit < floor:
                unit = floor
                parts.append("raised to the minimum margin")
        if rule.max_margin is not None:
            ceiling = cost / (ONE - rule.max_margin / HUNDRED)
            if unit > ceiling:
                unit = ceiling
                parts.append("lowered to the maximum margin")
    return unit * quantity, f"formula: {' '.join(parts)} = {_fmt(unit)} × {_fmt(quantity)}"


def _decided_facts(rule: Rule, facts: Mapping[str, Any], quantity: Decimal,
                   on_date: dt.date, item: ItemInfo) -> dict[str, Any]:
    used: dict[str, Any] = {"item": item.sku}
    if rule.regions:
        if facts.get("region.path"):
            used["region.path"] = facts.get("region.path")
        if facts.get("regional_pricing.zones"):
            used["regional_pricing.zones"] = facts.get("regional_pricing.zones")
    for _values, key, _label in rule.fact_checks:
        used[key] = facts.get(key)
    if rule.breaks:
        used["quantity"] = quantity
    if rule.valid_from is not None or rule.valid_to is not None:
        used["on_date"] = on_date
    if rule.scope == "category":
        used["price_lists.category"] = item.category
    if rule.kind == "formula" and (rule.base == "cost" or rule.min_margin is not None
                                   or rule.max_margin is not None):
        used["price_lists.cost"] = item.cost
        if rule.min_margin is not None:
            used["price_lists.min_margin"] = rule.min_margin
        if rule.max_margin is not None:
            used["price_lists.max_margin"] = rule.max_margin
    return used


def _why_outranked(loser: tuple[int, ...], winner: tuple[int, ...], code: str) -> str:
    if loser[0] != winner[0]:
        return f"outranked by {code} (more specific: {SCOPE_NAME[winner[0]]} rule)"
    if loser[1] != winner[1]:
        return f"outranked by {code} (more specific: more conditions)"
    if loser[2] != winner[2]:
        return f"outranked by {code} (more specific: deeper region)"
    if loser[3] != winner[3]:
        return f"outranked by {code} (higher priority)"
    if loser[4] != winner[4]:
        return f"outranked by {code} (newer)"
    return f"outranked by {code} (rule code order)"


def price_line(snapshot: Snapshot, context: PriceContext, previous: Money
               ) -> PriceAdjustment | PricePass | None:
    """Select the winning rule for one line and compute its total."""
    facts = context.facts
    item = snapshot.items.get(context.item)
    if item is None:
        return None
    candidates = snapshot.candidates(item.sku, item.category)
    if not candidates:
        return None
    quantity = context.quantity
    on_date = context.on_date or facts.get("on_date") or dt.date.today()
    explain = context.explain
    if not explain:
        return _fast(snapshot, candidates, item, facts, quantity, on_date, previous)
    return _explained(snapshot, candidates, item, facts, quantity, on_date, previous)


def _fast(snapshot: Snapshot, candidates: Sequence[Rule], item: ItemInfo,
          facts: Mapping[str, Any], quantity: Decimal, on_date: dt.date, previous: Money
          ) -> PriceAdjustment | None:
    best: Rule | None = None
    best_key: tuple[int, ...] = ()
    best_total: Decimal | None = None
    best_reason = ""
    for rule in candidates:
        if best is not None and rule.upper < best_key:
            break  # sorted by upper bound: nothing later can win
        depth, value, _ = _match(rule, facts, quantity, on_date, False)
        if depth < 0:
            continue
        key = (rule.scope_rank, rule.n_conditions, depth, rule.priority, rule.vf_ordinal)
        if best is not None and (key < best_key or (key == best_key and rule.code > best.code)):
            continue
        total, reason = _compute(rule, value, item, snapshot.entries, quantity,
                                 previous.amount, False)
        if total is None:
            continue
        best, best_key, best_total, best_reason = rule, key, total, reason
    if best is None or best_total is None:
        return None
    return PriceAdjustment(total=Money(best_total, previous.currency), reason=best_reason,
                           rule=best.code,
                           facts=_decided_facts(best, facts, quantity, on_date, item))


def _explained(snapshot: Snapshot, candidates: Sequence[Rule], item: ItemInfo,
               facts: Mapping[str, Any], quantity: Decimal, on_date: dt.date, previous: Money
               ) -> PriceAdjustment | PricePass:
    considered: list[tuple[Rule, str, tuple[int, ...] | None]] = []
    best: Rule | None = None
    best_key: tuple[int, ...] = ()
    best_total: Decimal | None = None
    best_reason = ""
    for rule in candidates:
        depth, value, why = _match(rule, facts, quantity, on_date, True)
        if depth < 0:
            considered.append((rule, why, None))
            continue
        key = (rule.scope_rank, rule.n_conditions, depth, rule.priority, rule.vf_ordinal)
        total, reason = _compute(rule, value, item, snapshot.entries, quantity,
                                 previous.amount, True)
        if total is None:
            considered.append((rule, reason, None))
            continue
        if best is None or key > best_key or (key == best_key and rule.code < best.code):
            if best is not None:
                considered.append((best, "", best_key))
            best, best_key, best_total, best_reason = rule, key, total, reason
        else:
            considered.append((rule, "", key))
    reasons = []
    for rule, why, lost in considered:
        if lost is not None and best is not None:
            why = _why_outranked(lost, best_key, best.code)
        reasons.append(RuleConsidered(rule=rule.code, reason=why))
    reasons.sort(key=lambda r: r.rule)
    if best is None or best_total is None:
        return PricePass(considered=tuple(reasons))
    return PriceAdjustment(total=Money(best_total, previous.currency), reason=best_reason,
                           rule=best.code,
                           facts=_decided_facts(best, facts, quantity, on_date, item),
                           considered=tuple(reasons))


# --------------------------------------------------------------------------- save-time checks


def quantity_ranges(breaks: Sequence[Break]) -> list[tuple[Decimal, Decimal | None]]:
    if not breaks:
        return [(ZERO, None)]
    return [(b.min_qty, b.max_qty) for b in breaks]


def _ranges_overlap(a: tuple[Decimal, Decimal | None], b: tuple[Decimal, Decimal | None]) -> bool:
    a_lo, a_hi = a
    b_lo, b_hi = b
    return (a_hi is None or b_lo < a_hi) and (b_hi is None or a_lo < b_hi)


def overlapping_breaks(breaks: Sequence[Break]) -> list[tuple[int, int]]:
    """Pairs of break indexes whose quantity ranges overlap."""
    pairs = []
    for i in range(len(breaks)):
        for j in range(i + 1, len(breaks)):
            if _ranges_overlap((breaks[i].min_qty, breaks[i].max_qty),
                               (breaks[j].min_qty, breaks[j].max_qty)):
                pairs.append((i, j))
    return pairs


def _dates_overlap(a: Rule, b: Rule) -> bool:
    lo_a = a.valid_from or dt.date.min
    hi_a = a.valid_to or dt.date.max
    lo_b = b.valid_from or dt.date.min
    hi_b = b.valid_to or dt.date.max
    return lo_a <= hi_b and lo_b <= hi_a


def same_scope_and_conditions(a: Rule, b: Rule) -> bool:
    return (a.scope == b.scope and a.sku == b.sku and a.category == b.category
            and set(a.regions) == set(b.regions)
            and set(a.partner_levels) == set(b.partner_levels)
            and set(a.partner_tiers) == set(b.partner_tiers)
            and set(a.customer_levels) == set(b.customer_levels)
            and set(a.channels) == set(b.channels))


def competes(a: Rule, b: Rule) -> bool:
    """True when ``a`` and ``b`` would tie on specificity, priority and newness for the same
    scope while overlapping in validity and quantity (refused at save)."""
    if a.code == b.code or not same_scope_and_conditions(a, b):
        return False
    if a.priority != b.priority or a.valid_from != b.valid_from:
        return False
    if not _dates_overlap(a, b):
        return False
    return any(_ranges_overlap(x, y) for x in quantity_ranges(a.breaks)
               for y in quantity_ranges(b.breaks))
