"""The admin pages: lists, forms, the region tree and the effective lookup."""

from decimal import Decimal

from test_regional_pricing import SLUG, created, partner

PAGES = f"/admin/p/{SLUG}"


def csrf(client):
    return client.headers["X-CSRF-Token"]


async def test_pages_show_zones_the_region_tree_and_effective_values(admin):
    await created(admin, "/zones",
                  {"code": "SIP", "name": "苏州工业园区", "kind": "geofence",
                   "polygon": [[120.62, 31.25], [120.80, 31.25], [120.80, 31.37],
                               [120.62, 31.37]]})
    await created(admin, "/parameters", {"target": "310000", "labour_rate": "110",
                                         "price_adjust_pct": "2"})
    await created(admin, "/parameters", {"target": "310115", "labour_rate": "115"})
    page = await admin.get(f"{PAGES}/")
    assert page.status_code == 200, page.text
    text = page.text
    assert "苏州工业园区" in text and "<svg" in text and "<polygon" in text
    assert "按行政区划的价格参数" in text and "区域定价" in text
    assert "浦东新区" in text and "上海市" in text
    assert "2 ← 上海市 310000" in text.replace("&lt;", "<")  # Pudong inherits the adjustment
    assert "/admin/p/regional_pricing/zones/new" in text
    for path in ("/zones/new", "/parameters/new?target=310115", "/locations", "/effective"):
        response = await admin.get(f"{PAGES}{path}")
        assert response.status_code == 200, (path, response.text)
    shop = await partner(admin, "SH-PD-01", "310115")
    lookup = await admin.get(f"{PAGES}/effective", params={"partner_id": shop})
    assert lookup.status_code == 200
    assert "115" in lookup.text and "浦东新区" in lookup.text


async def test_a_bad_zone_form_shows_the_error_next_to_the_field(admin):
    response = await admin.post(f"{PAGES}/zones/new", data={
        "csrf_token": csrf(admin), "code": "SIP", "name": "园区", "kind": "geofence",
        "polygon": "120.62,31.25\n120.80,31.25"})
    assert response.status_code == 422
    assert 'class="field-error"' in response.text
    assert 'id="e-polygon" class="field-error">电子围栏至少需要 3 个不同的点' in response.text
    assert "120.80,31.25" in response.text  # the input is kept
    ok = await admin.post(f"{PAGES}/zones/new", data={
        "csrf_token": csrf(admin), "code": "HN", "name": "华南", "kind": "group",
        "region_codes": "440000, 450000 460000"})
    assert ok.status_code in (200, 303), ok.text
    zones = (await admin.get("/api/v1/regional_pricing/zones")).json()["items"]
    assert [z["region_codes"] for z in zones] == [["440000", "450000", "460000"]]


async def test_parameter_and_location_forms(admin):
    bad = await admin.post(f"{PAGES}/parameters/new", data={
        "csrf_token": csrf(admin), "target": "999999", "labour_rate": "100"})
    assert bad.status_code == 422
    assert 'id="e-target" class="field-error">999999' in bad.text
    good = await admin.post(f"{PAGES}/parameters/new", data={
        "csrf_token": csrf(admin), "target": "320500", "labour_rate": "100.00",
        "currency": "CNY"})
    assert good.status_code in (200, 303), good.text
    shop = await partner(admin, "SZ-SP-01", "320506")
    bad_lat = await admin.post(f"{PAGES}/locations", data={
        "csrf_token": csrf(admin), "partner_id": str(shop), "lng": "120.73", "lat": "95"})
    assert bad_lat.status_code == 422
    assert 'id="e-lat" class="field-error"' in bad_lat.text and "95" in bad_lat.text
    ok = await admin.post(f"{PAGES}/locations", data={
        "csrf_token": csrf(admin), "partner_id": str(shop), "lng": "120.73", "lat": "31.31"})
    assert ok.status_code in (200, 303)
    listed = (await admin.get("/api/v1/regional_pricing/store-locations")).json()["items"]
    assert [(x["partner_code"], Decimal(x["lat"])) for x in listed] == [
        ("SZ-SP-01", Decimal("31.31"))]


async def test_staff_sees_pages_but_not_forms(jimu_platform, tenant):
    await jimu_platform.make_user(tenant, "rp-viewer", role="staff")
    staff = await jimu_platform.login("rp-viewer")
    assert (await staff.get(f"{PAGES}/")).status_code == 200
    assert (await staff.get(f"{PAGES}/zones/new")).status_code == 403
