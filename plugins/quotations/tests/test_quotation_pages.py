"""The admin pages: builder with live prices (htmx fragment), detail, lists, import."""

from test_quotations import PLUGINS, csv_file, quote, setup


async def test_pages_render_for_the_admin(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 120)])
    order = (await admin.post("/api/v1/quotations/orders", json={
        "partner_id": ids["HB-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": 4}]})).json()
    for path, text in [("/admin/p/quotations/", q["number"]),
                       ("/admin/p/quotations/?status=draft", q["number"]),
                       ("/admin/p/quotations/new", "item-options"),
                       (f"/admin/p/quotations/{q['id']}", "7,051.20"),
                       (f"/admin/p/quotations/{q['id']}/edit", "TEA-500-CASE"),
                       ("/admin/p/quotations/orders", order["number"]),
                       (f"/admin/p/quotations/orders/{order['id']}", "235.04"),
                       ("/admin/p/quotations/orders/import", "order_ref"),
                       ("/admin/", "待答复报价")]:  # the dashboard widget
        response = await admin.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert text in response.text, path
    detail = (await admin.get(f"/admin/p/quotations/{q['id']}")).text
    assert "list price 52.00 × 120" in detail and f"/api/v1/quotations/{q['id']}.pdf" in detail


async def test_builder_preview_updates_prices_and_explanations(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    response = await admin.post("/admin/p/quotations/builder/preview", data={
        "partner_id": str(ids["HN-ZD"]), "region_code": "", "on_date": "",
        "item": ["TEA-500-CASE", "WATER-550-CASE", ""], "quantity": ["1", "2", ""]},
        headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    html = response.text
    assert "<html" not in html  # a fragment for htmx
    assert html.count('data-testid="preview-line"') == 2
    assert "61.70" in html and "South China +5%" in html and "<details>" in html
    # 61.70 + 60 × 1.05 × 1.13 = 61.70 + 71.19
    assert "132.89" in html
    bad = await admin.post("/admin/p/quotations/builder/preview", data={
        "partner_id": str(ids["HN-ZD"]), "item": ["TEA-500-CASE", "NOPE"],
        "quantity": ["1", "1"]})
    assert bad.status_code == 200 and "NOPE" in bad.text and 'role="alert"' in bad.text


async def test_saving_a_bad_builder_form_shows_the_error(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    response = await admin.post("/admin/p/quotations/new", data={
        "partner_id": str(ids["HB-ZD"]), "region_code": "999999", "item": ["TEA-500-CASE"],
        "quantity": ["2"], "action": "save"})
    assert response.status_code == 422
    assert "999999" in response.text and "field-error" in response.text
    zero = await admin.post("/admin/p/quotations/new", data={
        "partner_id": str(ids["HB-ZD"]), "item": ["TEA-500-CASE"], "quantity": ["0"]})
    assert zero.status_code == 422 and "field-error" in zero.text


async def test_builder_saves_and_sends_then_accepts_from_the_detail_page(jimu_platform):
    _tenant, admin, ids = await setup(jimu_platform)
    saved = await admin.post("/admin/p/quotations/new", data={
        "partner_id": str(ids["HB-ZD"]), "item": ["TEA-500-CASE", ""], "quantity": ["3", ""],
        "action": "send"})
    assert saved.status_code in (302, 303), saved.text[:500]
    location = saved.headers["location"]
    quotation_id = int(location.split("/")[-1].split("?")[0])
    detail = (await admin.get(location)).text
    assert "176.28" in detail  # 156 × 1.13
    accepted = await admin.post(f"/admin/p/quotations/{quotation_id}/accept")
    assert accepted.status_code in (302, 303)
    again = await admin.post(f"/admin/p/quotations/{quotation_id}/accept")
    assert again.status_code == 409 and 'role="alert"' in again.text


async def test_import_page_reports_bad_rows(jimu_platform):
    _, admin, _ids = await setup(jimu_platform)
    response = await admin.post("/admin/p/quotations/orders/import", files=csv_file([
        ("A1", "HB-ZD", "110105", "TEA-500-CASE", "10", ""),
        ("A2", "NOBODY", "110105", "TEA-500-CASE", "x", "")]),
        data={"action": "check"})
    assert response.status_code == 200, response.text
    assert 'data-testid="import-errors"' in response.text
    assert "NOBODY" in response.text and "partner_code" in response.text


async def test_partner_user_cannot_open_the_builder(jimu_platform):
    tenant, _admin, ids = await setup(jimu_platform, plugins=PLUGINS)
    await jimu_platform.make_user(tenant, "dealer", role="partner", partner_id=ids["HB-ZD"])
    dealer = await jimu_platform.login("dealer")
    assert (await dealer.get("/admin/p/quotations/")).status_code == 200
    assert (await dealer.get("/admin/p/quotations/new")).status_code == 403


async def test_the_api_is_described_in_the_openapi_schema(jimu_platform):
    response = await jimu_platform.client().get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/quotations/{ref}" in paths and "/api/v1/quotations/orders/import" in paths
