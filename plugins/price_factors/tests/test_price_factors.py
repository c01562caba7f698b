"""The price factors plugin, tested with the SDK's fixtures as a third party would.

``pf_catalog`` stands in for the price lists / regional pricing / price tiers plugins (list
prices, cost, category, tax rate, zones, tier); ``pf_carbon`` is a third-party factor kind.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pf_carbon
import pf_catalog
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jimu_price_factors import plugin as price_factors

PLUGINS = ["price_factors", "pf_catalog"]
DEC = dt.date(2026, 12, 15)


@pytest.fixture
def jimu_plugins():
    return [price_factors, pf_catalog, pf_carbon]


@pytest.fixture
def jimu_load_installed():
    # Sibling pricing plugins are being built in parallel; load only what these tests need.
    return False


async def admin_of(jimu_platform, plugins=PLUGINS):
    tenant = await jimu_platform.make_tenant(plugins=plugins)
    return tenant, await jimu_platform.login(tenant.admin_username)


async def add(client, code, kind, params, **scope):
    response = await client.post("/api/v1/price_factors/factors",
                                 json={"code": code, "name": scope.pop("name", code),
                                       "kind": kind, "params": params, **scope})
    assert response.status_code == 201, response.text
    return response.json()


async def quote(client, item, quantity="1", **extra):
    response = await client.post("/api/v1/pricing/quote", json={
        "item": item, "quantity": quantity, "on_date": extra.pop("on_date", DEC.isoformat()),
        **extra})
    assert response.status_code == 200, response.text
    return response.json()


def factor_lines(answer):
    return [(t["rule"], t["after"]) for t in answer["trace"] if t["plugin"] == "price_factors"]


async def test_plugin_is_installed_and_offers_its_twelve_kinds(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    kinds = (await admin.get("/api/v1/price_factors/kinds")).json()
    assert [(k["key"], k["order"]) for k in kinds] == [
        ("promotion", 310), ("volume_discount", 320), ("partner_level_discount", 330),
        ("seasonal", 340), ("trade_in", 410), ("logistics_subsidy", 420),
        ("equipment_rental_subsidy", 430), ("government_subsidy", 440),
        ("cross_border_duty", 510), ("minimum_price_floor", 800), ("rounding", 850),
        ("tax", 900)]
    government = next(k for k in kinds if k["key"] == "government_subsidy")
    assert government["title"] == {"zh-CN": "政府补贴", "en": "Government subsidy"}
    schema = government["params_schema"]["$defs"]["GovernmentSubsidyParams"]
    assert schema["required"] == ["percent"]
    assert schema["properties"]["percent"]["maximum"] == 100


async def test_tea_in_december_promotion_rounding_and_vat(jimu_platform):
    """36.00 × 10 cases, 10% off in December = 324.00 (32.40 a case); rounded to 0.5 → 32.50 a
    case = 325.00; VAT 13% → 42.25 tax, total 367.25, net 325.00."""
    _, admin = await admin_of(jimu_platform)
    await add(admin, "VAT-13", "tax", {"rate_percent": "13"})
    await add(admin, "ROUND-TEA", "rounding", {"step": "0.5", "mode": "half_up"},
              items=["TEA-500-CASE"])
    await add(admin, "PROMO-TEA-DEC", "promotion", {"percent_off": "10"}, items=["TEA-500-CASE"],
              valid_from="2026-12-01", valid_to="2026-12-31")
    answer = await quote(admin, "TEA-500-CASE", "10")
    assert factor_lines(answer) == [("PROMO-TEA-DEC", "324.00"), ("ROUND-TEA", "325.00"),
                                    ("VAT-13", "367.25")]
    assert (answer["net"], answer["tax"], answer["total"]) == ("325.00", "42.25", "367.25")
    assert Decimal(answer["net"]) + Decimal(answer["tax"]) == Decimal(answer["total"])
    tax_line = next(t for t in answer["trace"] if t["rule"] == "VAT-13")
    assert tax_line["kind"] == "tax" and "增值税 13%" in tax_line["reason"]
    promo = next(t for t in answer["trace"] if t["rule"] == "PROMO-TEA-DEC")
    assert promo["reason"] == "PROMO-TEA-DEC 促销 −10%"
    assert promo["facts"] == {"on_date": "2026-12-15", "item": "TEA-500-CASE"}

    # In November the promotion is out of its period, and explain says so.
    november = await quote(admin, "TEA-500-CASE", "10", on_date="2026-11-30", explain=True)
    assert [rule for rule, _ in factor_lines(november)] == ["VAT-13"]  # 36.00 is on a step
    assert november["total"] == "406.80"
    reasons = {c["rule"]: c["reason"] for c in november["considered"]
               if c["plugin"] == "price_factors"}
    assert reasons["PROMO-TEA-DEC"] == ("not in period 2026-12-01..2026-12-31 "
                                        "(priced for 2026-11-30)")
    assert "unchanged" in reasons["ROUND-TEA"]


async def test_county_store_gets_rental_subsidy_by_tier_or_region(jimu_platform):
    """火锅底料 180.00/箱: a T4 store or any store in 510129 (大邑县) gets −8.00/箱."""
    _, admin = await admin_of(jimu_platform)
    await add(admin, "COUNTY-RENTAL", "equipment_rental_subsidy", {"amount_per_unit": "8"},
              name="县城门店设备租赁补贴", items=["HOTPOT-BASE-CASE"], partner_tiers=["T4"],
              regions=["510129"], audience_match="any")
    store = (await admin.post("/api/v1/partners", json={
        "code": "CD-COUNTY", "name": "崇州门店", "kind": "store", "region_code": "510184"}))
    store_id = store.json()["id"]
    pf_catalog.TIERS[store_id] = "T4"
    try:
        by_tier = await quote(admin, "HOTPOT-BASE-CASE", "5", partner_id=store_id)
    finally:
        pf_catalog.TIERS.clear()
    line = next(t for t in by_tier["trace"] if t["rule"] == "COUNTY-RENTAL")
    assert (line["after"], line["reason"]) == ("860.00", "县城门店设备租赁补贴 −8.00/箱")
    assert line["facts"]["price_tiers.tier"] == "T4"
    by_region = await quote(admin, "HOTPOT-BASE-CASE", "5", region_code="510129")
    assert by_region["total"] == "860.00"
    city = await quote(admin, "HOTPOT-BASE-CASE", "5", region_code="510104", explain=True)
    assert city["total"] == "900.00"
    [why] = [c["reason"] for c in city["considered"] if c["rule"] == "COUNTY-RENTAL"]
    assert why.startswith("none of the conditions met: region 510104 not in [510129]")
    assert "price_tiers.tier (none) not in [T4]" in why


async def test_hb_trade_in_and_government_subsidy_on_an_air_conditioner(jimu_platform):
    """AC 3999.00 in 华北 (Beijing): trade-in −300 → 3699.00; subsidy 15% = 554.85 → 3144.15;
    VAT at the item's own 13% → 408.74, total 3552.89. In 华南 neither applies."""
    _, admin = await admin_of(jimu_platform)
    await add(admin, "HB-GOV", "government_subsidy", {"percent": "15", "cap_per_unit": "2000"},
              items=["AC-1.5P"], regions=["HB"])
    await add(admin, "HB-TRADE-IN", "trade_in", {"allowance_per_unit": "300"},
              items=["AC-1.5P"], regions=["HB"])
    await add(admin, "VAT", "tax", {"rate_percent": "9", "use_item_rate": True})
    answer = await quote(admin, "AC-1.5P", "1", region_code="110105")
    assert factor_lines(answer) == [("HB-TRADE-IN", "3699.00"), ("HB-GOV", "3144.15"),
                                    ("VAT", "3552.89")]
    assert (answer["net"], answer["tax"]) == ("3144.15", "408.74")
    south = await quote(admin, "AC-1.5P", "1", region_code="440106", explain=True)
    assert factor_lines(south) == [("VAT", "4518.87")]
    reasons = {c["rule"]: c["reason"] for c in south["considered"]}
    assert reasons["HB-GOV"] == "region 440106 / zones [HN] not in [HB]"


async def test_government_subsidy_is_capped_per_unit(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    await add(admin, "GOV", "government_subsidy", {"percent": "60", "cap_per_unit": "2000"},
              items=["AC-1.5P"])
    answer = await quote(admin, "AC-1.5P", "2")
    assert answer["total"] == "3998.00"  # 7998.00 − 2 × 2000.00 (60% would be 2399.40 each)
    assert "封顶 2000.00/台" in answer["trace"][-1]["reason"]


async def test_cross_border_duty_only_for_its_channel(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    await add(admin, "DUTY", "cross_border_duty", {"rate_percent": "9.1"},
              channels=["cross_border"])
    assert (await quote(admin, "BOOK-1", "3", channel="cross_border"))["total"] == "163.65"
    domestic = await quote(admin, "BOOK-1", "3", explain=True)
    assert domestic["total"] == "150.00"
    assert any(c["reason"] == "channel (none) not in [cross_border]"
               for c in domestic["considered"])


async def test_volume_partner_level_and_seasonal_kinds(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    dealer = (await admin.post("/api/v1/partners", json={
        "code": "HB-ZD", "name": "华北总代", "level": "general_agent"})).json()["id"]
    await add(admin, "VOL", "volume_discount",
              {"bands": [{"min_quantity": "100", "percent": "2"},
                         {"min_quantity": "500", "percent": "4"}]})
    await add(admin, "LEVEL", "partner_level_discount", {"general_agent": "5", "level1": "3"})
    await add(admin, "SUMMER", "seasonal", {"percent": "-10"})
    # 24.00 × 500 = 12000.00; −4% = 11520.00; 总代 −5% = 10944.00; −10% = 9849.60
    answer = await quote(admin, "WATER-550-CASE", "500", partner_id=dealer)
    assert factor_lines(answer) == [("VOL", "11520.00"), ("LEVEL", "10944.00"),
                                    ("SUMMER", "9849.60")]
    assert answer["total"] == "9849.60"
    small = await quote(admin, "WATER-550-CASE", "10")
    assert factor_lines(small) == [("SUMMER", "216.00")]


async def test_floor_of_cost_plus_five_percent_is_rounded_up(jimu_platform):
    """Cost 30.00 + 5% = 31.50 a case; a 20.00 promotion would go to 16.00."""
    _, admin = await admin_of(jimu_platform)
    await add(admin, "PROMO", "promotion", {"amount_off": "20"})
    await add(admin, "FLOOR", "minimum_price_floor", {"min_markup_percent": "5"})
    await add(admin, "ROUND-DOWN", "rounding", {"step": "1", "mode": "down"})
    answer = await quote(admin, "TEA-500-CASE", "3")
    assert factor_lines(answer) == [("PROMO", "48.00"), ("FLOOR", "94.50"),
                                    ("ROUND-DOWN", "96.00")]
    floor_line = next(t for t in answer["trace"] if t["rule"] == "FLOOR")
    assert floor_line["facts"]["price_lists.cost"] == "30.00"
    # A fixed floor with an odd unit: 10.001 is rounded UP to 10.01.
    await add(admin, "FIXED", "minimum_price_floor", {"fixed_per_unit": "10.001"},
              items=["NOCOST"])
    await add(admin, "HALF", "promotion", {"percent_off": "50"}, items=["NOCOST"])
    assert (await quote(admin, "NOCOST", "1"))["total"] == "11.00"  # then rounded up to 11


async def test_third_party_kind_runs_between_government_subsidy_and_duty(jimu_platform):
    _, admin = await admin_of(jimu_platform, plugins=[*PLUGINS, "pf_carbon"])
    kinds = [(k["key"], k["plugin"]) for k in
             (await admin.get("/api/v1/price_factors/kinds")).json()]
    assert kinds.index(("carbon_credit", "pf_carbon")) == kinds.index(
        ("government_subsidy", "price_factors")) + 1
    await add(admin, "DUTY", "cross_border_duty", {"rate_percent": "10"})
    await add(admin, "CARBON", "carbon_credit", {"amount_per_unit": "5"})
    await add(admin, "GOV", "government_subsidy", {"percent": "10"})
    answer = await quote(admin, "BOOK-1", "2")
    # 100.00 → −10% 90.00 → −2×5 80.00 → +10% 88.00
    assert factor_lines(answer) == [("GOV", "90.00"), ("CARBON", "80.00"), ("DUTY", "88.00")]
    carbon = next(t for t in answer["trace"] if t["rule"] == "CARBON")
    assert carbon["reason"] == "CARBON 碳积分抵扣 −5/件"

    # Switching the kind's plugin off keeps the factor but skips it.
    assert (await admin.post("/api/v1/plugins/pf_carbon/disable")).status_code == 200
    answer = await quote(admin, "BOOK-1", "2", explain=True)
    assert factor_lines(answer) == [("GOV", "90.00"), ("DUTY", "99.00")]
    assert any(c["rule"] == "CARBON" and "not offered" in c["reason"]
               for c in answer["considered"])
    listed = {f["code"]: f for f in (await admin.get("/api/v1/price_factors/factors")).json()}
    assert listed["CARBON"]["kind_offered"] is False
    page = await admin.get("/admin/p/price_factors/")
    assert page.status_code == 200 and "CARBON" in page.text


async def test_toggle_switches_a_factor_off_and_on(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    await add(admin, "PROMO", "promotion", {"percent_off": "50"})
    assert (await quote(admin, "BOOK-1"))["total"] == "25.00"
    off = await admin.post("/api/v1/price_factors/factors/PROMO/toggle")
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert (await quote(admin, "BOOK-1"))["total"] == "50.00"
    await admin.post("/api/v1/price_factors/factors/PROMO/toggle")
    assert (await quote(admin, "BOOK-1"))["total"] == "25.00"
    update = await admin.put("/api/v1/price_factors/factors/PROMO", json={
        "name": "半价", "kind": "promotion", "params": {"percent_off": "20"}})
    assert update.status_code == 200, update.text
    assert (await quote(admin, "BOOK-1"))["total"] == "40.00"
    audit = (await admin.get("/api/v1/audit?action=price_factors.")).json()["items"]
    assert {a["action"] for a in audit} >= {"price_factors.create", "price_factors.toggle",
                                           "price_factors.update"}
    assert (await admin.delete("/api/v1/price_factors/factors/PROMO")).status_code == 204
    assert (await quote(admin, "BOOK-1"))["total"] == "50.00"


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "promotion", "params": {"percent_off": "120"}}, "params.percent_off"),
    ({"kind": "promotion", "params": {"percent_off": "abc"}}, "params.percent_off"),
    ({"kind": "promotion", "params": {"bogus": 1}}, "params.bogus"),
    ({"kind": "government_subsidy", "params": {}}, "params.percent"),
    ({"kind": "rounding", "params": {"step": "0"}}, "params.step"),
    ({"kind": "rounding", "params": {"mode": "sideways"}}, "params.mode"),
    ({"kind": "volume_discount", "params": {"bands": [{"min_quantity": "10", "percent": "200"}]}},
     "params.bands[0].percent"),
    ({"kind": "volume_discount", "params": {"bands": [{"min_quantity": "10", "percent": "1"},
                                                      {"min_quantity": "10", "percent": "2"}]}},
     "params.bands"),
    ({"kind": "no_such_kind", "params": {}}, "kind"),
    ({"kind": "tax", "params": {}, "partner_levels": ["gold"]}, "partner_levels"),
    ({"kind": "tax", "params": {}, "valid_from": "2026-12-31", "valid_to": "2026-12-01"},
     "valid_to"),
    ({"kind": "tax", "params": {}, "audience_match": "some"}, "audience_match"),
    ({"kind": "tax", "params": {}, "code": "bad code!"}, "code"),
])
async def test_bad_factors_are_refused_naming_the_field(jimu_platform, body, field):
    _, admin = await admin_of(jimu_platform)
    response = await admin.post("/api/v1/price_factors/factors",
                                json={"code": "X1", "name": "x", **body})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.text
    assert (await admin.get("/api/v1/price_factors/factors")).json() == []


async def test_duplicate_code_conflicts_and_other_tenants_do_not_see_factors(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    await add(admin, "PROMO", "promotion", {"percent_off": "50"})
    again = await admin.post("/api/v1/price_factors/factors", json={
        "code": "PROMO", "name": "x", "kind": "tax"})
    assert again.status_code == 409 and again.json()["field"] == "code"
    _, other = await admin_of(jimu_platform)
    assert (await other.get("/api/v1/price_factors/factors")).json() == []
    assert (await other.get("/api/v1/price_factors/factors/PROMO")).status_code == 404
    assert (await quote(other, "BOOK-1"))["total"] == "50.00"


async def test_staff_reads_but_cannot_write(jimu_platform):
    tenant, _ = await admin_of(jimu_platform)
    await jimu_platform.make_user(tenant, "pf-staff", role="staff")
    staff = await jimu_platform.login("pf-staff")
    assert (await staff.get("/api/v1/price_factors/factors")).status_code == 200
    refused = await staff.post("/api/v1/price_factors/factors", json={
        "code": "T", "name": "t", "kind": "tax"})
    assert refused.status_code == 403


# ---------------------------------------------------------------------------- properties

FACTOR_SPECS = [
    ("A-PROMO", "promotion", {"percent_off": "10"}, {}),
    ("B-PROMO", "promotion", {"amount_off": "1.5"}, {"priority": 5}),
    ("C-VOL", "volume_discount", {"bands": [{"min_quantity": "5", "percent": "3"}]}, {}),
    ("D-SEASON", "seasonal", {"percent": "7"}, {}),
    ("E-LOG", "logistics_subsidy", {"amount_per_unit": "0.7", "percent": "1"}, {}),
    ("F-GOV", "government_subsidy", {"percent": "15", "cap_per_unit": "2"}, {}),
    ("G-DUTY", "cross_border_duty", {"rate_percent": "9.1"}, {}),
    ("H-FLOOR", "minimum_price_floor", {"min_markup_percent": "5"}, {}),
    ("I-ROUND", "rounding", {"step": "0.5", "mode": "up"}, {}),
    ("J-TAX", "tax", {"rate_percent": "13"}, {}),
    ("K-PROMO", "promotion", {"percent_off": "2"}, {"priority": 5}),
]


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=10_000))
async def test_order_of_creation_does_not_change_price_or_trace(jimu_platform, seed):
    # Each example uses fresh tenants of one platform (tenants never see each other's factors).
    platform = jimu_platform
    answers = []
    for shuffle in range(2):
        specs = list(FACTOR_SPECS)
        random.Random(seed * 2 + shuffle).shuffle(specs)
        _, admin = await admin_of(platform)
        for code, kind, params, extra in specs:
            await add(admin, code, kind, params, **extra)
        answer = await quote(admin, "TEA-500-CASE", "7")
        answers.append((answer["total"], answer["tax"],
                        [(t["rule"], t["after"], t["reason"]) for t in answer["trace"]]))
    assert answers[0] == answers[1]
    ordered = [r for r, _, _ in answers[0][2] if r in {s[0] for s in FACTOR_SPECS}]
    assert ordered == sorted(ordered, key=["B-PROMO", "K-PROMO", "A-PROMO", "C-VOL",
                                           "D-SEASON", "E-LOG", "F-GOV", "G-DUTY", "H-FLOOR",
                                           "I-ROUND", "J-TAX"].index)


reductions = st.lists(st.tuples(
    st.sampled_from(["promotion", "trade_in", "logistics_subsidy", "equipment_rental_subsidy",
                     "government_subsidy"]),
    st.decimals(min_value=0, max_value=100, places=2)), min_size=1, max_size=6)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=reductions, quantity=st.integers(min_value=1, max_value=50),
       markup=st.decimals(min_value=0, max_value=50, places=3),
       step=st.sampled_from(["0.5", "1", "0.1"]),
       mode=st.sampled_from(["half_up", "down", "up"]))
async def test_a_price_never_goes_below_its_floor(jimu_platform, cuts, quantity, markup,
                                                 step, mode):
    _, admin = await admin_of(jimu_platform)
    params_of = {
        "promotion": lambda v: {"percent_off": str(min(v, 100)), "amount_off": str(v)},
        "trade_in": lambda v: {"allowance_per_unit": str(v)},
        "logistics_subsidy": lambda v: {"amount_per_unit": str(v)},
        "equipment_rental_subsidy": lambda v: {"percent": str(min(v, 100))},
        "government_subsidy": lambda v: {"percent": str(min(v, 100))},
    }
    for index, (kind, value) in enumerate(cuts):
        await add(admin, f"CUT-{index}", kind, params_of[kind](value))
    await add(admin, "FLOOR", "minimum_price_floor", {"min_markup_percent": str(markup)})
    await add(admin, "ROUND", "rounding", {"step": step, "mode": mode})
    await add(admin, "TAX", "tax", {"rate_percent": "13"})
    answer = await quote(admin, "TEA-500-CASE", str(quantity))
    floor_unit = (Decimal("30.00") * (100 + markup) / 100).quantize(
        Decimal("0.01"), rounding="ROUND_CEILING")
    assert Decimal(answer["net"]) >= floor_unit * quantity
    assert Decimal(answer["net"]) + Decimal(answer["tax"]) == Decimal(answer["total"])


# ---------------------------------------------------------------------------- pages


async def test_admin_pages_show_factors_by_kind_and_refuse_bad_forms(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    await add(admin, "PROMO-TEA-DEC", "promotion", {"percent_off": "10"},
              name="冰红茶12月促销", items=["TEA-500-CASE"])
    index = await admin.get("/admin/p/price_factors/")
    assert index.status_code == 200
    assert "PROMO-TEA-DEC" in index.text and "冰红茶12月促销" in index.text
    assert index.text.index("kind-promotion") < index.text.index("kind-tax")
    form = await admin.get("/admin/p/price_factors/new?kind=government_subsidy")
    assert form.status_code == 200 and 'name="params.cap_per_unit"' in form.text
    csrf = admin.headers["X-CSRF-Token"]
    bad = await admin.post("/admin/p/price_factors/new", data={
        "csrf_token": csrf, "kind": "government_subsidy", "code": "GOV", "name": "补贴",
        "params.percent": "150", "params.cap_per_unit": "", "enabled": "on"})
    assert bad.status_code == 422
    assert 'id="e-params.percent" class="field-error"' in bad.text
    good = await admin.post("/admin/p/price_factors/new", data={
        "csrf_token": csrf, "kind": "government_subsidy", "code": "GOV", "name": "补贴",
        "params.percent": "15", "params.cap_per_unit": "2000", "regions": "HB, 510129",
        "enabled": "on", "valid_from": "2026-12-01"})
    assert good.status_code == 303, good.text
    saved = (await admin.get("/api/v1/price_factors/factors/GOV")).json()
    assert saved["regions"] == ["HB", "510129"] and saved["params"]["cap_per_unit"] == "2000"
    edit = await admin.get("/admin/p/price_factors/factors/GOV")
    assert edit.status_code == 200 and 'value="2000"' in edit.text
    toggled = await admin.post("/admin/p/price_factors/factors/GOV/toggle",
                               data={"csrf_token": csrf})
    assert toggled.status_code == 303
    assert (await admin.get("/api/v1/price_factors/factors/GOV")).json()["enabled"] is False


async def test_demo_factors_price_tea_in_south_china_in_december(jimu_platform):
    from jimu_price_factors import services

    tenant, admin = await admin_of(jimu_platform)
    async with jimu_platform.as_tenant(tenant):
        await services.seed_demo(tenant.id)
        await services.seed_demo(tenant.id)  # seeding twice adds nothing
    factors = (await admin.get("/api/v1/price_factors/factors")).json()
    assert len(factors) == 12 and len({f["kind"] for f in factors}) == 12
    # Tea: 10 cases × 36.00 = 360.00; December −10% = 324.00 (above the floor of cost
    # 30.00 + 5% = 315.00); 32.40/箱 to the 0.5 step = 32.50 → 325.00; VAT 13% = 42.25.
    answer = await quote(admin, "TEA-500-CASE", "10", region_code="440106")
    assert factor_lines(answer) == [("PROMO-TEA-DEC", "324.00"), ("ROUND-TEA-0.5", "325.00"),
                                    ("VAT-13", "367.25")]
    assert (answer["net"], answer["tax"], answer["total"]) == ("325.00", "42.25", "367.25")
    # Water: 10 × 24.00 = 240.00; 华南 logistics −1.50/箱 = 225.00; VAT 13% = 29.25.
    water = await quote(admin, "WATER-550-CASE", "10", region_code="440106")
    assert factor_lines(water) == [("HN-LOGISTICS", "225.00"), ("VAT-13", "254.25")]
    north = await quote(admin, "WATER-550-CASE", "10", region_code="110105")
    assert factor_lines(north) == [("VAT-13", "271.20")]  # no subsidy in North China


async def test_routes_are_in_the_openapi_document(jimu_platform):
    schema = await jimu_platform.client().get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/price_factors/factors/{factor_code}/toggle" in paths
    assert "/api/v1/price_factors/kinds" in paths


async def test_the_form_generates_a_json_input_for_quantity_bands(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    form = await admin.get("/admin/p/price_factors/new?kind=volume_discount")
    assert '<textarea id="f-params.bands"' in form.text
    csrf = admin.headers["X-CSRF-Token"]
    bad = await admin.post("/admin/p/price_factors/new", data={
        "csrf_token": csrf, "kind": "volume_discount", "code": "VOL", "name": "批量",
        "params.bands": '[{"min_quantity": "10", "percent": "120"}]'})
    assert bad.status_code == 422 and 'id="e-params.bands"' in bad.text
    good = await admin.post("/admin/p/price_factors/new", data={
        "csrf_token": csrf, "kind": "volume_discount", "code": "VOL", "name": "批量",
        "params.bands": '[{"min_quantity": "10", "percent": "5"}]', "enabled": "on"})
    assert good.status_code == 303
    assert (await quote(admin, "BOOK-1", "10"))["total"] == "475.00"
