"""Quotations and orders end to end through the HTTP API, with exact prices from the stand-in
price plugin (list price, South China +5%, VAT 13%)."""

import datetime as dt
import io
import re
import zlib

import stand_in_price_lists
from jimu_quotations.tables import Order, Quotation

PLUGINS = ["price_lists", "quotations"]


async def test_plugin_is_installed(jimu_platform):
    assert "quotations" in jimu_platform.kernel.plugins.plugins


async def setup(jimu_platform, plugins=PLUGINS, config=None):
    tenant = await jimu_platform.make_tenant(plugins=plugins, config=config)
    admin = await jimu_platform.login(tenant.admin_username)
    ids = {}
    for code, name, region in [("HB-ZD", "华北总代·北京京联商贸", "110105"),
                               ("HN-ZD", "华南总代·广州粤通", "440106"),
                               ("SH-PD-01", "浦东张江门店", "310115")]:
        response = await admin.post("/api/v1/partners", json={
            "code": code, "name": name, "level": "general_agent", "region_code": region})
        assert response.status_code == 201, response.text
        ids[code] = response.json()["id"]
    return tenant, admin, ids


async def quote(admin, partner_id, lines, **extra):
    response = await admin.post("/api/v1/quotations/", json={
        "partner_id": partner_id, "lines": [{"item": i, "quantity": q} for i, q in lines],
        **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def outbox(jimu_platform, event_type):
    from jimu.db.tables import OutboxEvent  # tests only: the outbox is core's table

    async with jimu_platform.kernel.db.transaction():
        rows = await OutboxEvent.select(OutboxEvent.payload).output(load_json=True).where(
            OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
    return [r["payload"] for r in rows]


async def test_totals_are_sums_of_rounded_lines_with_tax_and_net(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", "120"), ("OIL-FILTER", "1"),
                                          ("OIL-FILTER", "1")])
    assert q["status"] == "draft" and q["version"] == 1
    assert q["number"].startswith("Q-") and q["region_code"] == "110105"  # the partner's
    lines = q["lines"]
    # 52.00 × 120 = 6240.00, +13% VAT = 7051.20
    assert (lines[0]["net"], lines[0]["tax"], lines[0]["total"]) == ("6240.00", "811.20",
                                                                     "7051.20")
    assert lines[0]["unit_price"] == "58.76" and lines[0]["name"] == "冰红茶500ml×15"
    assert lines[0]["category"] == "drinks"
    # 3.333 × 1.13 = 3.76629 → 3.77 (tax 0.43329 → 0.43, net 3.34)
    assert (lines[1]["net"], lines[1]["tax"], lines[1]["total"]) == ("3.34", "0.43", "3.77")
    # Sum of rounded lines: 7058.74 (rounding the unrounded sum would give 7058.73).
    assert (q["net"], q["tax"], q["total"]) == ("6246.68", "812.06", "7058.74")
    reasons = [step["reason"] for step in lines[0]["explanation"]]
    assert reasons == ["list price 52.00 × 120", "VAT 13%"]
    assert lines[1]["explanation"][-1]["plugin"] == "core"  # the rounding step


async def test_south_china_dealer_pays_five_percent_more(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    north = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 120), ("WATER-550-CASE", 50)],
                        region_code="110105")
    south = await quote(admin, ids["HN-ZD"], [("TEA-500-CASE", 120), ("WATER-550-CASE", 50)],
                        region_code="440106")
    assert [ln["total"] for ln in north["lines"]] == ["7051.20", "1695.00"]
    # 6240 × 1.05 × 1.13 = 7403.76; 1500 × 1.05 × 1.13 = 1779.75
    assert [ln["total"] for ln in south["lines"]] == ["7403.76", "1779.75"]
    assert south["total"] == "9183.51" and north["total"] == "8746.20"


async def test_draft_is_repriced_on_save_and_sent_is_frozen(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 1)])
    saved = await admin.put(f"/api/v1/quotations/{q['id']}", json={
        "partner_id": ids["HN-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": "2"}]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["total"] == "123.40"  # 104 × 1.05 × 1.13 = 123.396 → 123.40
    sent = await admin.post(f"/api/v1/quotations/{q['id']}/send")
    assert sent.json()["status"] == "sent"
    refused = await admin.put(f"/api/v1/quotations/{q['id']}", json={
        "partner_id": ids["HB-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": "5"}]})
    assert refused.status_code == 409 and "revise" in refused.json()["message"]


async def test_revising_makes_version_two_and_supersedes_the_old(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 10)])
    assert (await admin.post(f"/api/v1/quotations/{q['id']}/revise")).status_code == 409
    await admin.post(f"/api/v1/quotations/{q['id']}/send")
    revised = await admin.post(f"/api/v1/quotations/{q['id']}/revise")
    assert revised.status_code == 201, revised.text
    new = revised.json()
    assert (new["number"], new["version"], new["status"]) == (q["number"], 2, "draft")
    assert new["revision_of"] == q["id"] and new["total"] == q["total"]
    old = (await admin.get(f"/api/v1/quotations/{q['id']}")).json()
    assert old["status"] == "superseded" and old["lines"][0]["item"] == "TEA-500-CASE"
    assert [(v["version"], v["status"]) for v in new["versions"]] == [(1, "superseded"),
                                                                       (2, "draft")]


async def test_accepting_creates_the_order_and_emits_orders_created(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 4), ("WATER-550-CASE", 2)],
                    region_code="110105")
    await admin.post(f"/api/v1/quotations/{q['id']}/send")
    accepted = await admin.post(f"/api/v1/quotations/{q['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    order = body["order"]
    assert order["source"] == "quotation" and order["quotation_id"] == q["id"]
    assert order["status"] == "confirmed" and order["total"] == q["total"]
    [payload] = await outbox(jimu_platform, "orders.created")
    assert payload == {
        "order_id": order["id"], "order_no": order["number"], "partner_id": ids["HB-ZD"],
        "customer_id": None, "region_code": "110105",
        "lines": [{"line_no": 1, "item": "TEA-500-CASE", "quantity": "4", "unit_price": "58.76",
                   "amount": "235.04", "category": "drinks"},
                  {"line_no": 2, "item": "WATER-550-CASE", "quantity": "2",
                   "unit_price": "33.90", "amount": "67.80", "category": "drinks"}]}
    again = await admin.post(f"/api/v1/quotations/{q['id']}/accept")
    assert again.status_code == 409 and "accepted" in again.json()["message"]


async def test_an_expired_quotation_cannot_be_accepted(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    jimu_platform.clock.freeze(dt.datetime(2026, 5, 10, 2, 0, tzinfo=dt.UTC))
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 1)], valid_until="2026-05-12")
    await admin.post(f"/api/v1/quotations/{q['id']}/send")
    await jimu_platform.advance(days=3)
    refused = await admin.post(f"/api/v1/quotations/{q['id']}/accept")
    assert refused.status_code == 409
    assert "expired on 2026-05-12" in refused.json()["message"]
    assert (await admin.get(f"/api/v1/quotations/{q['id']}")).json()["status"] == "expired"
    assert await outbox(jimu_platform, "orders.created") == []


async def test_nightly_job_marks_expired_quotations(jimu_platform):
    tenant, admin, ids = await setup(jimu_platform)
    jimu_platform.clock.freeze(dt.datetime(2026, 5, 10, 2, 0, tzinfo=dt.UTC))
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 1)], valid_until="2026-05-10")
    await admin.post(f"/api/v1/quotations/{q['id']}/send")
    await jimu_platform.advance(days=1)
    from jimu_quotations import services

    async with jimu_platform.as_tenant(tenant):
        assert await services.expire_due() == 1
        row = await Quotation.scoped_get(q["id"])
    assert row["status"] == "expired"


async def test_a_refusing_in_transaction_handler_refuses_the_accept(jimu_platform):
    tenant, admin, ids = await setup(jimu_platform, plugins=[*PLUGINS, "stock_guard"])
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 4)])
    await admin.post(f"/api/v1/quotations/{q['id']}/send")
    refused = await admin.post(f"/api/v1/quotations/{q['id']}/accept")
    assert refused.status_code == 409
    assert "not enough stock" in refused.json()["message"]
    assert (await admin.get(f"/api/v1/quotations/{q['id']}")).json()["status"] == "sent"
    async with jimu_platform.as_tenant(tenant):
        assert await Order.scoped_count() == 0
    assert await outbox(jimu_platform, "orders.created") == []


def csv_file(rows):
    text = "order_ref,partner_code,region_code,sku,quantity,date\n" + "\n".join(
        ",".join(r) for r in rows) + "\n"
    return {"file": ("orders.csv", text.encode("utf-8"), "text/csv")}


async def test_import_dry_run_reports_every_bad_row_and_writes_nothing(jimu_platform):
    tenant, admin, _ids = await setup(jimu_platform)
    files = csv_file([
        ("A1", "HB-ZD", "110105", "TEA-500-CASE", "10", "2026-05-01"),
        ("A1", "HB-ZD", "110105", "NO-SUCH-SKU", "5", ""),        # row 3: unknown sku
        ("B1", "XX-NONE", "440106", "TEA-500-CASE", "3", ""),     # row 4: unknown partner
        ("B2", "HN-ZD", "440106", "WATER-550-CASE", "-2", ""),    # row 5: bad quantity
        ("B3", "HN-ZD", "440106", "WATER-550-CASE", "7", ""),
    ])
    response = await admin.post("/api/v1/quotations/orders/import?dry_run=true", files=files)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True and report["rows"] == 5
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (3, "sku"), (4, "partner_code"), (5, "quantity")]
    assert "NO-SUCH-SKU" in report["errors"][0]["message"]
    assert "XX-NONE" in report["errors"][1]["message"]
    assert report["created"] == []
    async with jimu_platform.as_tenant(tenant):
        assert await Order.scoped_count() == 0
    # Without dry run the same file is refused whole.
    refused = await admin.post("/api/v1/quotations/orders/import", files=csv_file([
        ("A1", "HB-ZD", "110105", "TEA-500-CASE", "10", ""),
        ("A2", "HB-ZD", "999999", "TEA-500-CASE", "1", "")]))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "row 3: region_code"
    async with jimu_platform.as_tenant(tenant):
        assert await Order.scoped_count() == 0


async def test_a_valid_import_creates_one_order_per_order_ref(jimu_platform):
    _tenant, admin, _ids = await setup(jimu_platform)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["order_ref", "partner_code", "region_code", "sku", "quantity"])
    sheet.append(["PO-1", "HB-ZD", "110105", "TEA-500-CASE", 10])
    sheet.append(["PO-1", "HB-ZD", "110105", "WATER-550-CASE", 5])
    sheet.append(["PO-2", "HN-ZD", "", "TEA-500-CASE", 1])
    out = io.BytesIO()
    book.save(out)
    response = await admin.post("/api/v1/quotations/orders/import", files={
        "file": ("orders.xlsx", out.getvalue(),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert response.status_code == 200, response.text
    created = response.json()["created"]
    assert [(o["external_ref"], o["source"], len(o["lines"])) for o in created] == [
        ("PO-1", "import", 2), ("PO-2", "import", 1)]
    # PO-2 takes HN-ZD's own region (440106): 52 × 1.05 × 1.13 = 61.698 → 61.70
    assert created[0]["total"] == "757.10" and created[1]["total"] == "61.70"
    assert created[1]["region_code"] == "440106"
    assert len(await outbox(jimu_platform, "orders.created")) == 2


async def test_completing_emits_and_a_completed_order_cannot_be_cancelled(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    created = await admin.post("/api/v1/quotations/orders", json={
        "partner_id": ids["HB-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": "4"}]})
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["source"] == "api" and order["total"] == "235.04"
    done = await admin.post(f"/api/v1/quotations/orders/{order['id']}/complete")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    [payload] = await outbox(jimu_platform, "orders.completed")
    assert payload["order_no"] == order["number"] and payload["lines"][0]["quantity"] == "4"
    assert dt.datetime.fromisoformat(payload["completed_at"]).tzinfo is not None
    cancel = await admin.post(f"/api/v1/quotations/orders/{order['id']}/cancel")
    assert cancel.status_code == 409
    assert "completed" in cancel.json()["message"] and "none" in cancel.json()["message"]


async def test_cancelling_a_confirmed_order_emits_orders_cancelled(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    order = (await admin.post("/api/v1/quotations/orders", json={
        "partner_id": ids["HB-ZD"], "lines": [{"item": "WATER-550-CASE", "quantity": 1}]}
    )).json()
    cancelled = await admin.post(f"/api/v1/quotations/orders/{order['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert [p["order_id"] for p in await outbox(jimu_platform, "orders.cancelled")] == [
        order["id"]]
    again = await admin.post(f"/api/v1/quotations/orders/{order['id']}/complete")
    assert again.status_code == 409


async def test_partner_user_sees_only_its_own_quotations_and_orders(jimu_platform):
    tenant, admin, ids = await setup(jimu_platform)
    own = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 1)])
    other = await quote(admin, ids["HN-ZD"], [("TEA-500-CASE", 1)])
    await admin.post("/api/v1/quotations/orders", json={
        "partner_id": ids["HN-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": 1}]})
    await jimu_platform.make_user(tenant, "hb-dealer", role="partner", partner_id=ids["HB-ZD"])
    dealer = await jimu_platform.login("hb-dealer")
    listed = (await dealer.get("/api/v1/quotations/")).json()
    assert [q["id"] for q in listed["items"]] == [own["id"]] and listed["total"] == 1
    assert (await dealer.get(f"/api/v1/quotations/{other['id']}")).status_code == 404
    assert (await dealer.get("/api/v1/quotations/orders")).json()["items"] == []
    # Partner users read, they do not write.
    assert (await dealer.post(f"/api/v1/quotations/{own['id']}/send")).status_code == 403


def pdf_fonts_and_text(pdf: bytes) -> tuple[set[str], set[str]]:
    """Font names and the characters of the PDF's ToUnicode maps (no PDF library needed:
    pdfminer.six is not a dependency)."""
    fonts, characters = set(), set()
    for match in re.finditer(rb"stream\r?\n", pdf):
        end = pdf.find(b"endstream", match.end())
        try:
            data = zlib.decompress(pdf[match.end():end])
        except zlib.error:
            continue
        fonts.update(f.decode() for f in re.findall(rb"/FontName\s*/([\w+-]+)", data))
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
            for code in re.findall(rb"<[0-9a-fA-F]+>\s*<([0-9a-fA-F]+)>", block):
                characters.add(bytes.fromhex(code.decode()).decode("utf-16-be"))
    return fonts, characters


async def test_pdf_and_xlsx_are_produced_with_the_chinese_text(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    q = await quote(admin, ids["HN-ZD"], [("TEA-500-CASE", 120), ("WATER-550-CASE", 50)],
                    region_code="440106", note="华南区域专属报价")
    pdf = await admin.get(f"/api/v1/quotations/{q['id']}.pdf")
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    fonts, characters = pdf_fonts_and_text(pdf.content)
    assert any(font.endswith("+Noto-Sans-CJK-SC") for font in fonts), fonts
    # The Chinese is text (mapped to Unicode), not pictures of glyphs.
    assert set("冰红茶矿泉水华南总代广州粤通报价单") <= characters
    assert (await admin.get(f"/api/v1/quotations/{q['id']}?format=pdf")).content.startswith(
        b"%PDF")
    xlsx = await admin.get(f"/api/v1/quotations/{q['id']}.xlsx")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    line = next(row for row in cells if row[1] == "TEA-500-CASE")
    assert line[2] == "冰红茶500ml×15" and line[7] == 7403.76
    assert sheet.cell(row=cells.index(line) + 1, column=8).number_format == "#,##0.00"
    assert any(row[7] == 9183.51 for row in cells)


async def test_preview_prices_lines_without_saving(jimu_platform):
    tenant, admin, ids = await setup(jimu_platform)
    response = await admin.post("/api/v1/quotations/preview", json={
        "partner_id": ids["HN-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": "1"}]})
    assert response.status_code == 200, response.text
    assert response.json()["total"] == "61.70"
    assert [s["reason"] for s in response.json()["lines"][0]["explanation"]][1] == \
        "South China +5%"
    async with jimu_platform.as_tenant(tenant):
        assert await Quotation.scoped_count() == 0


async def test_a_hundred_line_quotation_is_priced_in_one_call(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    stand_in_price_lists.CALLS["price"] = 0
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", n) for n in range(1, 101)])
    assert len(q["lines"]) == 100
    assert stand_in_price_lists.CALLS["price"] == 1
    # Σ n (1..100) = 5050 cases × 58.76 = 296738.00
    assert q["total"] == "296738.00"


async def test_bad_input_names_the_field(jimu_platform):
    _, admin, ids = await setup(jimu_platform)

    async def post(**body):
        return await admin.post("/api/v1/quotations/", json={
            "lines": [{"item": "TEA-500-CASE", "quantity": "1"}], **body})

    nobody = await post()
    assert nobody.status_code == 422 and nobody.json()["field"] == "partner_id"
    unknown = await post(partner_id=99999)
    assert unknown.status_code == 422 and unknown.json()["field"] == "partner_id"
    region = await post(partner_id=ids["HB-ZD"], region_code="999999")
    assert region.status_code == 422 and region.json()["field"] == "region_code"
    zero = await admin.post("/api/v1/quotations/", json={
        "partner_id": ids["HB-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": "1"},
                                              {"item": "TEA-500-CASE", "quantity": "0"}]})
    assert zero.status_code == 422 and zero.json()["field"] == "lines[1].quantity"
    sku = await admin.post("/api/v1/quotations/", json={
        "partner_id": ids["HB-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": "1"},
                                              {"item": "NOPE", "quantity": "1"}]})
    assert sku.status_code in (409, 422) and sku.json()["field"] == "lines[1].item"
    empty = await post(partner_id=ids["HB-ZD"], lines=[])
    assert empty.status_code == 422 and empty.json()["field"] == "lines"
    extra = await post(partner_id=ids["HB-ZD"], price="1.00")
    assert extra.status_code == 400
    assert (await admin.get("/api/v1/quotations/?status=bogus")).status_code == 422
    assert (await admin.get("/api/v1/quotations/424242")).status_code == 404


async def test_demo_seeder_skips_what_cannot_be_priced(jimu_platform):
    tenant, admin, ids = await setup(jimu_platform)
    from jimu_quotations import demo

    async with jimu_platform.as_tenant(tenant):
        await demo.seed(tenant.id)  # PKG-4S-BASIC is unknown to the stand-in: skipped
    listed = (await admin.get("/api/v1/quotations/?per_page=10")).json()["items"]
    assert sorted((q["partner_id"], q["status"]) for q in listed) == sorted([
        (ids["HB-ZD"], "sent"), (ids["HN-ZD"], "sent"), (ids["HB-ZD"], "accepted")])
    south = next(q for q in listed if q["partner_id"] == ids["HN-ZD"])
    assert south["total"] == "9183.51"
    orders = (await admin.get("/api/v1/quotations/orders")).json()["items"]
    assert [o["source"] for o in orders] == ["quotation"]  # the stores are not partners here


async def test_of_two_acting_at_once_one_wins_and_the_other_gets_409(jimu_platform):
    from jimu_quotations import services
    from jimu_sdk import Conflict

    tenant, admin, ids = await setup(jimu_platform)
    q = await quote(admin, ids["HB-ZD"], [("TEA-500-CASE", 4)], region_code="110105")
    await admin.post(f"/api/v1/quotations/{q['id']}/send")
    async with jimu_platform.as_tenant(tenant), jimu_platform.kernel.db.transaction():
        seen_by_the_slower = await services._quotation_row(q["id"])
    assert (await admin.post(f"/api/v1/quotations/{q['id']}/accept")).status_code == 200
    # The slower request read "sent" before the accept committed; its change now finds
    # nothing in that state to change.
    async with jimu_platform.as_tenant(tenant), jimu_platform.kernel.db.transaction():
        try:
            await services._set_status(seen_by_the_slower, "rejected")
        except Conflict as exc:
            assert "accepted" in exc.message
        else:
            raise AssertionError("a stale transition went through")
    assert (await admin.get(f"/api/v1/quotations/{q['id']}")).json()["status"] == "accepted"


async def test_a_quantity_finer_than_four_places_is_refused_not_rounded(jimu_platform):
    _, admin, ids = await setup(jimu_platform)
    answer = await admin.post("/api/v1/quotations/", json={
        "partner_id": ids["HB-ZD"], "lines": [{"item": "TEA-500-CASE", "quantity": "1"},
                                              {"item": "TEA-500-CASE", "quantity": "0.00001"}]})
    assert answer.status_code == 422 and answer.json()["field"] == "lines[1].quantity"
