"""Customers, partners and regions pages: lists with search, filters, sorting, pagination and
export; forms that keep the input and show each error next to its field; partner walls."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook


async def _customers(client, *rows):
    for row in rows:
        answer = await client.post("/api/v1/customers", json=row)
        assert answer.status_code == 201, answer.text


async def test_customer_list_searches_filters_sorts_and_pages(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    await _customers(admin, *[{"name": f"客户{i:02d}", "level": "gold" if i % 3 == 0 else
                               "regular"} for i in range(25)])
    page = await admin.get("/admin/customers?sort=name&per_page=20")
    assert page.status_code == 200
    names = re.findall(r'href="/admin/customers/\d+">(客户\d\d)<', page.text)
    assert names == [f"客户{i:02d}" for i in range(20)]
    assert 'aria-sort="ascending"' in page.text and 'rel="next"' in page.text
    second = await admin.get("/admin/customers?sort=name&per_page=20&page=2")
    assert re.findall(r'>(客户\d\d)<', second.text) == [f"客户{i:02d}" for i in range(20, 25)]
    desc = await admin.get("/admin/customers?sort=-name&per_page=20")
    assert re.findall(r'>(客户\d\d)<', desc.text)[0] == "客户24"
    gold = await admin.get("/admin/customers?level=gold&per_page=200")
    assert len(re.findall(r'>(客户\d\d)<', gold.text)) == 9
    found = await admin.get("/admin/customers?q=客户1")
    assert set(re.findall(r'>(客户\d\d)<', found.text)) == {f"客户1{i}" for i in range(10)}
    # Nonsense in the query string falls back to defaults instead of failing.
    odd = await admin.get("/admin/customers?sort=password&page=-3&per_page=x")
    assert odd.status_code == 200


async def test_htmx_gets_only_the_results(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    await _customers(admin, {"name": "王小明"})
    part = await admin.get("/admin/customers?q=王", headers={
        "HX-Request": "true", "HX-Target": "list-results"})
    assert part.status_code == 200 and "王小明" in part.text
    assert part.text.lstrip().startswith('<div id="list-results"') and "<html" not in part.text
    assert "HX-Request" in part.headers["vary"]


async def test_customer_export_as_csv_and_xlsx(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    await _customers(admin, {"name": "张三", "phone": "13812345678", "level": "gold"},
                     {"name": "=HYPERLINK(\"x\")", "level": "regular"})
    answer = await admin.get("/admin/customers?export=csv&level=gold")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] in ("姓名", "名称", "Name") and len(rows) == 2
    assert rows[1][0] == "张三" and rows[1][1] == "+8613812345678"
    every = (await admin.get("/admin/customers?export=csv")).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in every  # a formula is written as text
    book = load_workbook(io.BytesIO((await admin.get("/admin/customers?export=xlsx")).content))
    sheet = book.active
    assert sheet.max_row == 3 and {sheet.cell(row=r, column=1).value for r in (2, 3)} == {
        "张三", "'=HYPERLINK(\"x\")"}


async def test_customer_form_keeps_input_and_shows_errors_next_to_fields(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    bad = await admin.post("/admin/customers/new", data={
        "name": "", "phone": "12", "email": "not-an-email", "level": "gold",
        "region_code": "999999"})
    assert bad.status_code == 422
    assert 'id="e-name"' in bad.text and 'id="e-email"' in bad.text
    assert 'value="not-an-email"' in bad.text  # the user's input is kept
    assert (await admin.get("/api/v1/customers")).json()["total"] == 0  # nothing half-saved
    region = await admin.post("/admin/customers/new", data={
        "name": "李四", "phone": "12", "level": "gold", "region_code": "999999"})
    assert region.status_code == 422 and 'id="e-region_code"' in region.text
    assert "999999" in region.text and "区域" in region.text  # translated, with the value
    phone = await admin.post("/admin/customers/new", data={"name": "李四", "phone": "12"})
    assert phone.status_code == 422 and 'id="e-phone"' in phone.text
    made = await admin.post("/admin/customers/new", data={
        "name": "李四", "phone": "138 1234 5678", "level": "gold", "region_code": "110105"})
    assert made.status_code == 303
    detail = await admin.get(made.headers["location"])
    assert "朝阳区" in detail.text and 'value="+8613812345678"' in detail.text
    customer_id = int(made.headers["location"].rsplit("/", 1)[1])
    changed = await admin.post(f"/admin/customers/{customer_id}", data={
        "name": "李四四", "phone": "+8613812345678", "email": "", "level": "silver",
        "partner_id": "", "region_code": "110105"})
    assert changed.status_code == 303
    row = (await admin.get(f"/api/v1/customers/{customer_id}")).json()
    assert row["name"] == "李四四" and row["level"] == "silver"
    deleted = await admin.post(f"/admin/customers/{customer_id}/delete")
    assert deleted.status_code == 303
    assert (await admin.get(f"/admin/customers/{customer_id}")).status_code == 404


async def test_partner_pages_with_level_parent_and_refused_delete(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    top = await admin.post("/admin/partners/new", data={
        "code": "BJ-001", "name": "北京总代", "kind": "dealer", "level": "general_agent"})
    assert top.status_code == 303
    top_id = int(top.headers["location"].rsplit("/", 1)[1])
    child = await admin.post("/admin/partners/new", data={
        "code": "BJ-002", "name": "朝阳门店", "kind": "store", "level": "level1",
        "parent_id": str(top_id)})
    assert child.status_code == 303
    twice = await admin.post("/admin/partners/new", data={"code": "BJ-001", "name": "x"})
    assert twice.status_code == 409 and 'id="e-code"' in twice.text
    listing = await admin.get(f"/admin/partners?parent_id={top_id}")
    assert "朝阳门店" in listing.text and "北京总代 (BJ-001)" in listing.text
    assert "BJ-001</a>" not in listing.text  # only the children of the parent
    loop = await admin.post(f"/admin/partners/{top_id}", data={
        "name": "北京总代", "kind": "dealer", "level": "general_agent",
        "parent_id": child.headers["location"].rsplit("/", 1)[1]})
    assert loop.status_code == 422 and 'id="e-parent_id"' in loop.text
    refused = await admin.post(f"/admin/partners/{top_id}/delete")
    assert refused.status_code == 409 and "BJ-001" in refused.text
    levels = await admin.get("/admin/partners?level=level1")
    assert "朝阳门店" in levels.text and "北京总代</td>" not in levels.text


async def test_partner_user_sees_only_its_own_organisation(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    north = (await admin.post("/api/v1/partners", json={"code": "N", "name": "华北经销商"})
             ).json()
    south = (await admin.post("/api/v1/partners", json={"code": "S", "name": "华南经销商"})
             ).json()
    await _customers(admin, {"name": "北方客户", "partner_id": north["id"]},
                     {"name": "南方客户", "partner_id": south["id"]})
    await jimu_platform.make_user(tenant, "north-user", role="partner", partner_id=north["id"])
    dealer = await jimu_platform.login("north-user")
    customers = await dealer.get("/admin/customers")
    assert "北方客户" in customers.text and "南方客户" not in customers.text
    assert "华南经销商" not in customers.text  # not even in the partner filter
    partners = await dealer.get("/admin/partners")
    assert "华北经销商" in partners.text and "华南经销商" not in partners.text
    south_customer = (await admin.get("/api/v1/customers?q=南方")).json()["items"][0]
    assert (await dealer.get(f"/admin/customers/{south_customer['id']}")).status_code == 404
    assert (await dealer.get(f"/admin/partners/{south['id']}")).status_code == 404
    export = (await dealer.get("/admin/customers?export=csv")).content.decode("utf-8-sig")
    assert "北方客户" in export and "南方客户" not in export
    made = await dealer.post("/admin/customers/new", data={"name": "新客户"})
    assert made.status_code == 303
    mine = (await admin.get("/api/v1/customers?q=新客户")).json()["items"][0]
    assert mine["partner_id"] == north["id"]  # bound to the dealer's own organisation
    # Configuration pages are not in a partner user's reach.
    for path in ("/admin/plugins", "/admin/users", "/admin/settings", "/admin/audit"):
        assert (await dealer.get(path)).status_code in (403, 404), path


async def test_region_tree_and_search(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    top = await admin.get("/admin/regions")
    assert "北京市" in top.text and "广东省" in top.text
    beijing = await admin.get("/admin/regions?code=110000")
    assert "110105" in beijing.text or "110100" in beijing.text
    found = await admin.get("/admin/regions?q=朝阳")
    assert "朝阳区" in found.text and "北京市" in found.text
    assert (await admin.get("/admin/regions?code=999999")).status_code == 404
