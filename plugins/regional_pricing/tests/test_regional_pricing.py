"""Regional pricing end to end: through its API and the core pricing API."""

from decimal import Decimal

SLUG = "regional_pricing"
PLUGINS = [SLUG, "fake_items"]  # as in conftest.py

API = f"/api/v1/{SLUG}"
SIP = [[120.625, 31.335], [120.66, 31.365], [120.735, 31.37], [120.79, 31.35],
       [120.8, 31.3], [120.77, 31.255], [120.7, 31.25], [120.64, 31.27]]


async def test_plugin_is_installed(jimu_platform):
    assert SLUG in jimu_platform.kernel.plugins.plugins


async def created(client, path, body):
    response = await client.post(f"{API}{path}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def refused(client, path, body, field, method="post"):
    response = await getattr(client, method)(f"{API}{path}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.text
    return response.json()["message"]


async def partner(client, code, region):
    response = await client.post("/api/v1/partners", json={
        "code": code, "name": code, "kind": "store", "region_code": region})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def quote(client, item, quantity="1", **extra):
    response = await client.post("/api/v1/pricing/quote",
                                 json={"item": item, "quantity": quantity, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def effective(client, **params):
    response = await client.get(f"{API}/effective", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def labour_rates(admin):
    for target, rate in [("320500", "100.00"), ("310000", "110.00"), ("310115", "115.00")]:
        await created(admin, "/parameters", {"target": target, "labour_rate": rate})


async def test_pudong_labour_is_15_percent_above_suzhou(admin):
    await labour_rates(admin)
    pudong = await partner(admin, "SH-PD-01", "310115")
    suzhou = await partner(admin, "SZ-INST-01", "320506")
    sh = await quote(admin, "LAB-OIL", "1.5", partner_id=pudong)
    sz = await quote(admin, "LAB-OIL", "1.5", partner_id=suzhou)
    assert Decimal(sh["total"]) == Decimal("172.50")
    assert Decimal(sz["total"]) == Decimal("150.00")
    assert Decimal(sh["total"]) / Decimal(sz["total"]) == Decimal("1.15")
    [labour] = [t for t in sh["trace"] if t["rule"] == "labour-rate"]
    assert labour["plugin"] == SLUG
    assert labour["reason"] == "浦东新区 工时费 115.00/h"
    assert labour["facts"]["region.code"] == "310115"
    assert labour["facts"]["labour_rate_from"] == "310115"
    assert sh["facts"]["regional_pricing.labour_rate_from"] == "310115"
    [inherited] = [t for t in sz["trace"] if t["rule"] == "labour-rate"]
    assert inherited["reason"] == "吴中区 工时费 100.00/h（取自 苏州市 320500）"


async def test_a_city_overrides_its_province_and_an_unset_value_is_inherited(admin):
    await created(admin, "/parameters", {"target": "310000", "labour_rate": "110",
                                         "price_adjust_pct": "3"})
    await created(admin, "/parameters", {"target": "310115", "labour_rate": "115"})
    pudong = await effective(admin, region_code="310115")
    assert pudong["labour_rate"]["value"] == "115"
    assert pudong["labour_rate"]["source"] == "310115"
    assert pudong["price_adjust_pct"]["value"] == "3"  # not set at Pudong: from Shanghai
    assert pudong["price_adjust_pct"]["source"] == "310000"
    assert pudong["price_adjust_pct"]["source_level"] == "province"
    assert [c["target"] for c in pudong["chain"]] == ["310115", "310100", "310000"]
    xuhui = await effective(admin, region_code="310104")
    assert xuhui["labour_rate"]["source"] == "310000"
    # The adjustment applies to goods, the labour rate to labour.
    goods = await quote(admin, "COLA-24", "2", region_code="310115")
    assert Decimal(goods["total"]) == Decimal("103.00")
    labour = await quote(admin, "LAB-OIL", "2", region_code="310104")
    assert Decimal(labour["total"]) == Decimal("220.00")


async def test_south_china_dealer_price_is_north_china_plus_5_percent(admin):
    await created(admin, "/zones", {"code": "HB", "name": "华北", "kind": "group",
                                    "region_codes": ["110000", "120000", "130000", "140000",
                                                     "150000"]})
    await created(admin, "/zones", {"code": "HN", "name": "华南", "kind": "group",
                                    "region_codes": ["440000", "450000", "460000"]})
    await created(admin, "/parameters", {"target": "HB", "price_adjust_pct": "0"})
    await created(admin, "/parameters", {"target": "HN", "price_adjust_pct": "5"})
    north = await partner(admin, "HB-ZD", "110105")
    south = await partner(admin, "HN-ZD", "440106")
    hb = await quote(admin, "COLA-24", "10", partner_id=north, explain=True)
    hn = await quote(admin, "COLA-24", "10", partner_id=south)
    assert Decimal(hb["total"]) == Decimal("500.00")
    assert Decimal(hn["total"]) == Decimal("525.00")
    assert Decimal(hn["total"]) == Decimal(hb["total"]) * Decimal("1.05")
    assert hb["facts"]["regional_pricing.zones"] == ["HB"]
    assert hn["facts"]["regional_pricing.zones"] == ["HN"]
    [adjust] = [t for t in hn["trace"] if t["rule"] == "regional-adjustment"]
    assert adjust["reason"] == "华南（HN）区域调价 +5%"
    assert any(c["reason"] == "price adjustment of 华北 (HB) is 0%" for c in hb["considered"])


async def test_geofence_applies_inside_and_not_outside(admin):
    await created(admin, "/zones", {"code": "SIP", "name": "苏州工业园区", "kind": "geofence",
                                    "polygon": SIP})
    await created(admin, "/parameters", {"target": "320500", "labour_rate": "90"})
    await created(admin, "/parameters", {"target": "SIP", "labour_rate": "100"})
    inside = await partner(admin, "SZ-SP-01", "320506")
    outside = await partner(admin, "SZ-INST-01", "320506")
    await created(admin, "/store-locations", {"partner_id": inside, "lng": "120.73",
                                              "lat": "31.31"})
    await created(admin, "/store-locations", {"partner_id": outside, "lng": "120.60",
                                              "lat": "31.28"})  # 姑苏/吴中, west of the park
    sp = await quote(admin, "LAB-OIL", "1", partner_id=inside)
    inst = await quote(admin, "LAB-OIL", "1", partner_id=outside)
    assert Decimal(sp["total"]) == Decimal("100.00")
    assert sp["facts"]["regional_pricing.zones"] == ["SIP"]
    assert sp["facts"]["regional_pricing.labour_rate_from"] == "SIP"
    assert (await admin.get("/api/v1/audit")).status_code == 200
    assert Decimal(inst["total"]) == Decimal("90.00")
    assert inst["facts"]["regional_pricing.zones"] == []
    by_point = await effective(admin, region_code="320506", lng="120.70", lat="31.30")
    assert by_point["zones"] == ["SIP"] and by_point["labour_rate"]["source"] == "SIP"
    assert by_point["location_from"] == "query"
    by_partner = await effective(admin, partner_id=inside)
    assert by_partner["region_code"] == "320506"
    assert by_partner["location_from"] == "store_location"
    assert by_partner["labour_rate"]["source_name"] == "苏州工业园区"
    far = await effective(admin, region_code="320506", lng="120.50", lat="31.30")
    assert far["zones"] == [] and far["labour_rate"]["source"] == "320500"


async def test_explain_says_why_no_labour_rate_applied(admin):
    await labour_rates(admin)
    result = await quote(admin, "LAB-OIL", "1", region_code="440106", explain=True)
    assert Decimal(result["total"]) == Decimal("80.00")  # the item's own price stays
    reasons = [c["reason"] for c in result["considered"] if c["plugin"] == SLUG]
    assert "no labour rate set for 440106 or its parents" in reasons


async def test_editing_a_parameter_changes_the_next_price(admin):
    row = await created(admin, "/parameters", {"target": "310115", "labour_rate": "115"})
    assert Decimal((await quote(admin, "LAB-OIL", region_code="310115"))["total"]) == 115
    response = await admin.put(f"{API}/parameters/{row['id']}",
                               json={"target": "310115", "labour_rate": "120"})
    assert response.status_code == 200, response.text
    assert Decimal((await quote(admin, "LAB-OIL", region_code="310115"))["total"]) == 120
    assert (await admin.delete(f"{API}/parameters/{row['id']}")).status_code == 204
    assert Decimal((await quote(admin, "LAB-OIL", region_code="310115"))["total"]) == 80
    audit = (await admin.get("/api/v1/audit")).json()
    actions = {e["action"] for e in audit["items"]}
    assert {"regional_pricing.parameter.create", "regional_pricing.parameter.update",
            "regional_pricing.parameter.delete"} <= actions


async def test_validity_periods_choose_the_parameter_of_the_pricing_date(admin):
    await created(admin, "/parameters", {"target": "310115", "labour_rate": "115",
                                         "valid_to": "2026-12-31"})
    await created(admin, "/parameters", {"target": "310115", "labour_rate": "125",
                                         "valid_from": "2027-01-01"})
    old = await quote(admin, "LAB-OIL", region_code="310115", on_date="2026-06-01")
    new = await quote(admin, "LAB-OIL", region_code="310115", on_date="2027-02-01")
    assert (Decimal(old["total"]), Decimal(new["total"])) == (115, 125)


async def test_bad_input_is_refused_naming_the_field(admin):
    assert "999999" in await refused(admin, "/parameters",
                                     {"target": "999999", "labour_rate": "1"}, "target")
    await refused(admin, "/parameters", {"target": "NOPE", "labour_rate": "1"}, "target")
    await refused(admin, "/parameters", {"target": "310115"}, "price_adjust_pct")
    await refused(admin, "/parameters", {"target": "310115", "price_adjust_pct": "600"},
                  "price_adjust_pct")
    await refused(admin, "/parameters", {"target": "310115", "labour_rate": "-1"},
                  "labour_rate")
    await refused(admin, "/parameters", {"target": "310115", "labour_rate": "1",
                                         "valid_from": "2027-01-02",
                                         "valid_to": "2027-01-01"}, "valid_to")
    await created(admin, "/parameters", {"target": "310115", "labour_rate": "115"})
    await refused(admin, "/parameters", {"target": "310115", "labour_rate": "116",
                                         "valid_from": "2027-01-01"}, "valid_from")
    await refused(admin, "/zones", {"code": "hn", "name": "x", "region_codes": ["440000"]},
                  "code")
    await refused(admin, "/zones", {"code": "X1", "name": "x", "region_codes": ["440000",
                                                                              "123456"]},
                  "region_codes[1]")
    await refused(admin, "/zones", {"code": "X2", "name": "x", "kind": "geofence",
                                    "polygon": [[120.6, 31.2], [120.7, 31.3]]}, "polygon")
    await refused(admin, "/zones", {"code": "X3", "name": "x", "kind": "geofence",
                                    "polygon": [[120.6, 31.2], [120.7, 95], [120.8, 31.2]]},
                  "polygon[1].lat")
    await refused(admin, "/zones", {"code": "X4", "name": "x", "kind": "round"}, "kind")
    shop = await partner(admin, "SH-PD-01", "310115")
    await refused(admin, "/store-locations", {"partner_id": shop, "lng": "121.5",
                                              "lat": "95"}, "lat")
    await refused(admin, "/store-locations", {"partner_id": 99999, "lng": "121.5",
                                              "lat": "31"}, "partner_id")
    bad = await admin.get(f"{API}/effective", params={"region_code": "999999"})
    assert bad.status_code == 422 and bad.json()["field"] == "region_code"
    # nothing was half-written
    zones = (await admin.get(f"{API}/zones")).json()
    assert zones["total"] == 0


async def test_conflicting_group_zones_are_refused_naming_both(admin):
    await created(admin, "/zones", {"code": "HN", "name": "华南", "region_codes": ["440000",
                                                                               "450000"]})
    await created(admin, "/zones", {"code": "GD", "name": "广东促销区",
                                    "region_codes": ["440000"]})
    await created(admin, "/parameters", {"target": "HN", "price_adjust_pct": "5"})
    message = await refused(admin, "/parameters", {"target": "GD", "price_adjust_pct": "3"},
                            "price_adjust_pct")
    assert "GD" in message and "HN" in message and "440000" in message
    # The same value is no conflict; a zone at a deeper code is more specific, not a clash.
    await created(admin, "/parameters", {"target": "GD", "price_adjust_pct": "5"})
    await created(admin, "/zones", {"code": "GZ", "name": "广州", "region_codes": ["440100"]})
    await created(admin, "/parameters", {"target": "GZ", "price_adjust_pct": "8"})
    guangzhou = await effective(admin, region_code="440106")
    assert guangzhou["price_adjust_pct"]["source"] == "GZ"
    assert guangzhou["zones"] == ["GZ", "GD", "HN"]
    # Widening a zone into a clash is refused too, on its region codes.
    await created(admin, "/zones", {"code": "GX", "name": "广西", "region_codes": ["450100"]})
    await created(admin, "/parameters", {"target": "GX", "price_adjust_pct": "2"})
    zone = next(z for z in (await admin.get(f"{API}/zones")).json()["items"]
            if z["code"] == "GX")
    message = await refused(admin, f"/zones/{zone['id']}",
                            {"name": "广西", "region_codes": ["450100", "440100"]},
                            "region_codes", method="put")
    assert "GX" in message and "GZ" in message


async def test_zones_of_one_tenant_are_invisible_to_another(jimu_platform, admin):
    zone = await created(admin, "/zones", {"code": "HN", "name": "华南",
                                           "region_codes": ["440000"]})
    await created(admin, "/parameters", {"target": "HN", "price_adjust_pct": "5"})
    other = await jimu_platform.make_tenant(plugins=PLUGINS)
    them = await jimu_platform.login(other.admin_username)
    assert (await them.get(f"{API}/zones")).json()["items"] == []
    assert (await them.get(f"{API}/zones/{zone['id']}")).status_code == 404
    assert (await them.delete(f"{API}/zones/{zone['id']}")).status_code == 404
    assert (await them.get(f"{API}/parameters")).json()["total"] == 0
    # Their own HN is allowed (codes are unique per tenant) and prices independently.
    await created(them, "/zones", {"code": "HN", "name": "华南", "region_codes": ["440000"]})
    theirs = await quote(them, "COLA-24", region_code="440106")
    assert Decimal(theirs["total"]) == Decimal("50.00")
    ours = await quote(admin, "COLA-24", region_code="440106")
    assert Decimal(ours["total"]) == Decimal("52.50")


async def test_staff_reads_but_cannot_write_and_plugin_off_is_404(jimu_platform, tenant):
    await jimu_platform.make_user(tenant, "rp-staff", role="staff")
    staff = await jimu_platform.login("rp-staff")
    assert (await staff.get(f"{API}/zones")).status_code == 200
    response = await staff.post(f"{API}/zones", json={"code": "HN", "name": "华南",
                                                      "region_codes": ["440000"]})
    assert response.status_code == 403
    off = await jimu_platform.make_tenant(plugins=["fake_items"])
    client = await jimu_platform.login(off.admin_username)
    assert (await client.get(f"{API}/zones")).status_code == 404


async def test_a_zone_with_parameters_cannot_be_deleted(admin):
    zone = await created(admin, "/zones", {"code": "HN", "name": "华南",
                                           "region_codes": ["440000"]})
    row = await created(admin, "/parameters", {"target": "HN", "price_adjust_pct": "5"})
    assert (await admin.delete(f"{API}/zones/{zone['id']}")).status_code == 409
    await admin.delete(f"{API}/parameters/{row['id']}")
    assert (await admin.delete(f"{API}/zones/{zone['id']}")).status_code == 204


async def test_demo_data_shows_the_seeds_examples(jimu_platform, tenant, admin):
    from jimu_regional_pricing import services

    ids = {code: await partner(admin, code, region) for code, region in [
        ("HB-ZD", "110105"), ("HN-ZD", "440106"), ("SH-PD-01", "310115"),
        ("SZ-INST-01", "320506"), ("SZ-SP-01", "320506")]}
    async with jimu_platform.as_tenant(tenant):
        await services.seed_demo(tenant.id)
    hb = await quote(admin, "COLA-24", "10", partner_id=ids["HB-ZD"])
    hn = await quote(admin, "COLA-24", "10", partner_id=ids["HN-ZD"])
    assert (Decimal(hb["total"]), Decimal(hn["total"])) == (Decimal("500.00"),
                                                            Decimal("525.00"))
    pd = await quote(admin, "LAB-OIL", "1.5", partner_id=ids["SH-PD-01"])
    sz = await quote(admin, "LAB-OIL", "1.5", partner_id=ids["SZ-INST-01"])
    sp = await quote(admin, "LAB-OIL", "1.5", partner_id=ids["SZ-SP-01"])
    assert (Decimal(pd["total"]), Decimal(sz["total"])) == (Decimal("172.50"),
                                                            Decimal("150.00"))
    assert Decimal(sp["total"]) == Decimal("150.00")
    assert sp["facts"]["regional_pricing.labour_rate_from"] == "SIP"
    assert (await admin.get("/api/v1/audit")).status_code == 200
