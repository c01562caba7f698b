"""The pure engine: selection order, arithmetic and explanations, without a database."""

import datetime as dt
import random
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st
from jimu_price_lists import engine
from jimu_price_lists.engine import Break, ItemInfo, Rule, Snapshot
from jimu_sdk import Money, PriceAdjustment, PriceContext, PricePass

TODAY = dt.date(2026, 6, 1)
TEA = ItemInfo(sku="TEA", name="冰红茶", unit="箱", kind="product", category="饮料",
               list_price=D("60.00"), cost=D("42.00"), currency="CNY", tax_rate=D("0.13"))
NOCOST = ItemInfo(sku="LAB", name="工时", unit="h", kind="labour", category="工时",
                  list_price=D("120"), cost=None, currency="CNY", tax_rate=D("0.06"))
DEPTHS = {"110000": 1, "110100": 2, "110105": 3, "440000": 1}


def R(code, **kw):
    kw.setdefault("scope", "item")
    kw.setdefault("kind", "fixed")
    if kw["scope"] == "item":
        kw.setdefault("sku", "TEA")
    return Rule(code=code, **kw).finish(DEPTHS)


def price(rules, qty="1", explain=False, item="TEA", entries=None, **facts):
    snap = Snapshot({"TEA": TEA, "LAB": NOCOST}, entries or {}, rules)
    info = snap.items[item]
    facts.setdefault("on_date", TODAY)
    ctx = PriceContext(tenant_id=1, item=item, quantity=D(qty), on_date=facts["on_date"],
                       facts=facts, explain=explain)
    return engine.price_line(snap, ctx, Money(info.list_price * D(qty)))


def test_level1_dealer_buying_120_cases():
    rules = [R("TEA-L1", partner_levels=("level1",),
               breaks=(Break(D(0), D(100), D("51.00")), Break(D(100), None, D("49.98"))))]
    out = price(rules, "120", **{"partner.level": "level1"})
    assert out.total.amount == D("5997.60")
    assert out.rule == "TEA-L1"
    assert out.facts["partner.level"] == "level1" and out.facts["quantity"] == D(120)
    assert price(rules, "99", **{"partner.level": "level1"}).total.amount == D("5049.00")


def test_specificity_item_beats_category_beats_all():
    rules = [R("ALL", scope="all", value=D("10")), R("CAT", scope="category", category="饮料",
                                                     value=D("20")),
             R("ITEM", value=D("30"))]
    out = price(rules, explain=True)
    assert out.rule == "ITEM" and out.total.amount == D("30")
    reasons = {c.rule: c.reason for c in out.considered}
    assert reasons == {"ALL": "outranked by ITEM (more specific: item rule)",
                       "CAT": "outranked by ITEM (more specific: item rule)"}


def test_more_conditions_then_deeper_region_then_priority_then_newest_then_code():
    facts = {"region.path": ("110000", "110100", "110105"), "partner.level": "level1"}
    two = R("TWO", regions=("110000",), partner_levels=("level1",), value=D(1))
    city = R("CITY", regions=("110100",), value=D(2))
    prov = R("PROV", regions=("110000",), value=D(3), priority=99)
    assert price([two, city, prov], **facts).rule == "TWO"
    assert price([city, prov], **facts).rule == "CITY"
    hi = R("HI", value=D(4), priority=5)
    lo = R("LO", value=D(5))
    assert price([lo, hi]).rule == "HI"
    new = R("NEW", value=D(6), valid_from=dt.date(2026, 1, 1))
    old = R("OLD", value=D(7), valid_from=dt.date(2025, 1, 1))
    none = R("NONE", value=D(8))
    assert price([none, old, new]).rule == "NEW"
    assert price([R("B", value=D(1)), R("A", value=D(2))]).rule == "A"


def test_zone_match_counts_depth_zero():
    facts = {"region.path": ("110000", "110100", "110105"),
             "regional_pricing.zones": ("NORTH",)}
    zone = R("ZONE", regions=("NORTH",), value=D(1), priority=1)
    prov = R("PROV", regions=("110000",), value=D(2))
    assert price([zone, prov], **facts).rule == "PROV"
    assert price([zone], **facts).rule == "ZONE"
    # works without the regional pricing plugin's fact
    assert price([zone], **{"region.path": ("110000",)}) is None


def test_reasons_for_rules_that_do_not_apply():
    rules = [R("SOUTH", regions=("440000",), value=D(1)),
             R("LATER", value=D(2), valid_from=dt.date(2027, 1, 1)),
             R("BULK", breaks=(Break(D(10), None, D(3)),)),
             R("TIER", partner_tiers=("A",), value=D(4))]
    out = price(rules, "5", explain=True, **{"region.path": ("110000", "110100", "110105")})
    assert isinstance(out, PricePass)
    reasons = {c.rule: c.reason for c in out.considered}
    assert reasons == {"SOUTH": "region 110105 not in [440000]",
                       "LATER": "valid from 2027-01-01",
                       "BULK": "quantity 5 below the first break 10",
                       "TIER": "partner tier none not in [A]"}
    assert price(rules, "5") is None


def test_formula_with_rounding_and_margins():
    # 60 × 0.95 = 57.00; margin 26% is inside [25%, 40%].
    f = R("F", scope="category", category="饮料", kind="formula", value=D(5),
          rounding_step=D("0.5"), min_margin=D(25), max_margin=D(40))
    assert price([f], "2").total.amount == D("114.00")
    # 40% off: 36 is below cost/(1-0.25) = 56: clamped up to the min margin.
    g = R("G", kind="formula", value=D(40), min_margin=D(25))
    assert price([g]).total.amount == D(56)
    # a surcharge on cost, capped by the max margin: cost/(1-0.1) = 46.666…
    h = R("H", kind="formula", base="cost", surcharge=D(10), max_margin=D(10))
    assert price([h]).total.amount == D(42) / D("0.9")
    # rounding half up to a step
    assert engine.round_step(D("57.25"), D("0.5")) == D("57.5")
    assert engine.round_step(D("57.24"), D("0.5")) == D("57.0")


def test_margin_needs_a_cost_and_the_rule_says_so():
    f = R("F", scope="all", kind="formula", min_margin=D(10))
    out = price([f], item="LAB", explain=True)
    assert isinstance(out, PricePass)
    assert out.considered[0].reason == "a margin needs a cost: the item has none"


def test_formula_on_a_price_list_and_discount_on_running_price():
    f = R("F", kind="formula", base="price_list", price_list="DEALER", value=D(3))
    assert price([f], "10", entries={("DEALER", "TEA"): D("52.00")}).total.amount == D("504.40")
    out = price([f], "10", explain=True)
    assert isinstance(out, PricePass)
    assert out.considered[0].reason == "price list DEALER has no price for TEA"
    d = R("D", kind="discount", value=D(10))
    assert price([d], "2").total.amount == D("108.00")


def test_a_rule_that_cannot_compute_falls_through_to_the_next():
    f = R("F", kind="formula", base="price_list", price_list="X", priority=9)
    fixed = R("FIXED", value=D("55"))
    assert price([f, fixed]).rule == "FIXED"


def test_conflicts_and_overlapping_breaks():
    a = R("A", partner_levels=("level1",), value=D(1))
    b = R("B", partner_levels=("level1",), value=D(2))
    assert engine.competes(a, b)
    assert not engine.competes(a, R("C", partner_levels=("level1",), value=D(2), priority=1))
    assert not engine.competes(a, R("C", partner_levels=("level2",), value=D(2)))
    early = R("E", partner_levels=("level1",), value=D(1), valid_to=dt.date(2026, 1, 1))
    late = R("L", partner_levels=("level1",), value=D(1), valid_from=dt.date(2026, 2, 1))
    assert not engine.competes(early, late)  # different valid_from
    q1 = R("Q1", breaks=(Break(D(0), D(10), D(1)),))
    q2 = R("Q2", breaks=(Break(D(10), None, D(1)),))
    assert not engine.competes(q1, q2)
    assert engine.overlapping_breaks([Break(D(0), D(10), D(1)), Break(D(5), None, D(1))]) == [
        (0, 1)]
    assert engine.overlapping_breaks([Break(D(0), D(10), D(1)), Break(D(10), None, D(1))]) == []


codes = st.lists(st.text("ABCDEFGH", min_size=1, max_size=4), min_size=1, max_size=12,
                 unique=True)


@settings(max_examples=60, deadline=None)
@given(codes, st.randoms(use_true_random=False), st.integers(1, 300),
       st.sampled_from(["level1", "level2", ""]))
def test_same_inputs_same_answer_whatever_the_rule_order(names, rnd, qty, level):
    choice = random.Random(len(names))
    rules = []
    for name in names:
        kw = {"value": D(choice.randint(1, 90)), "priority": choice.randint(0, 2)}
        pick = choice.randint(0, 3)
        if pick == 1:
            kw["partner_levels"] = (choice.choice(["level1", "level2"]),)
        elif pick == 2:
            kw = {"breaks": (Break(D(choice.randint(0, 150)), None, D(choice.randint(1, 9))),),
                  "kind": "discount"}
        elif pick == 3:
            kw.update(scope="category", category="饮料")
        rules.append((name, kw))

    def build(order):
        return [R(n, **kw) for n, kw in order]

    facts = {"partner.level": level}
    first = price(build(rules), str(qty), explain=True, **facts)
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    again = price(build(shuffled), str(qty), explain=True, **facts)
    assert first == again
    fast = price(build(shuffled), str(qty), **facts)
    if isinstance(first, PriceAdjustment):
        assert fast.total == first.total and fast.rule == first.rule
    else:
        assert fast is None
