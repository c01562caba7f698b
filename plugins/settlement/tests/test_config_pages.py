"""The settlement configuration pages: split rules, programmes, fee schedules, targets and the
CSV import, each refusing bad input with the field and the rule named, keeping what was
typed."""

from decimal import Decimal as D

from settlement_support import API, at, ok, world

CONFIG = "/admin/p/settlement/config"


async def form(client, path, data, files=None):
    return await client.post(f"{CONFIG}{path}", data=data, files=files, follow_redirects=False)


async def test_an_admin_configures_rules_and_programmes_through_the_pages(jimu_platform):
    here = await world(jimu_platform, rules=False)
    page = await here.admin.get(f"{CONFIG}/")
    assert page.status_code == 200 and "LAB-REPAIR" in page.text
    saved = await form(here.admin, "/split-rules", {
        "code": "INST-LABOUR", "name": "安装工时分成", "role": "installer",
        "component": "labour", "basis": "percent", "value": "70", "enabled": "on"})
    assert saved.status_code == 303, saved.text
    rule = await ok(await here.admin.get(f"{API}/split-rules/INST-LABOUR"))
    assert (rule["role"], D(rule["value"]), rule["enabled"]) == ("installer", D(70), True)
    too_much = await form(here.admin, "/split-rules", {
        "code": "INST-MORE", "name": "再分", "role": "installer", "component": "labour",
        "basis": "percent", "value": "40", "enabled": "on"})
    assert too_much.status_code in (409, 422) and "再分" in too_much.text  # kept as typed
    edited = await form(here.admin, "/split-rules", {
        "existing": "INST-LABOUR", "name": "安装工时分成", "role": "installer",
        "component": "labour", "basis": "percent", "value": "65"})
    assert edited.status_code == 303
    rule = await ok(await here.admin.get(f"{API}/split-rules/INST-LABOUR"))
    assert (D(rule["value"]), rule["enabled"]) == (D(65), False)

    ladder = {"code": "HB-LADDER", "name": "华北阶梯返利", "kind": "ladder_rebate",
              "metric": "quantity", "mode": "whole", "unit": "箱", "categories": "饮料",
              "region_codes": "110000, 120000", "bands": "0-1000: 0\n1000-5000: 1\n5000-: 2",
              "enabled": "on"}
    overlapping = await form(here.admin, "/programmes", {
        **ladder, "bands": "0-1000: 0\n900-5000: 1"})
    assert overlapping.status_code == 422 and 'data-field="bands' in overlapping.text
    assert "900-5000: 1" in overlapping.text
    bad_line = await form(here.admin, "/programmes", {**ladder, "bands": "lots: 2"})
    assert bad_line.status_code == 422 and "bands[0]" in bad_line.text
    assert (await form(here.admin, "/programmes", ladder)).status_code == 303
    programme = await ok(await here.admin.get(f"{API}/programmes/HB-LADDER"))
    assert [(D(b["min"]), b["max"] and D(b["max"]), D(b["rate"])) for b in programme["bands"]] \
        == [(0, 1000, 0), (1000, 5000, 1), (5000, None, 2)]
    assert programme["region_codes"] == ["110000", "120000"]
    share = await form(here.admin, "/programmes", {
        "code": "HN-SHARE", "name": "华南分成", "kind": "volume_share", "metric": "amount",
        "share_pct": "120", "enabled": "on"})
    assert share.status_code == 422 and 'data-field="share_pct"' in share.text
    edit_page = await here.admin.get(f"{CONFIG}/programmes/HB-LADDER")
    assert "1000-5000: 1" in edit_page.text
    assert (await here.admin.get(f"{CONFIG}/programmes/NOPE")).status_code == 404


async def test_fee_schedules_targets_and_a_csv_import(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 11, 20))
    here = await world(jimu_platform, rules=False)
    changed = await form(here.admin, "/fee-schedule", {
        "existing": "1", "work_order_type": "repair", "labour_item": "LAB-REPAIR",
        "hours_field": "labour_hours", "price_parts": "on",
        "fees": "callout | 上门费 | 60.00", "subsidies": "far | 远郊补贴 | 25.00 | installer"})
    assert changed.status_code == 303, changed.text
    schedule = await ok(await here.admin.get(f"{API}/fee-schedules/by-type",
                                             params={"work_order_type": "repair"}))
    assert D(schedule["fees"][0]["amount"]) == D("60.00")
    assert schedule["subsidies"][0]["to"] == "installer"
    wrong = await form(here.admin, "/fee-schedule", {
        "existing": "1", "work_order_type": "repair", "labour_item": "LAB-REPAIR",
        "fees": "callout | 上门费"})
    assert wrong.status_code == 422 and "fees[0]" in wrong.text

    target = await form(here.admin, "/targets", {
        "period": "2026-11", "partner_code": "HB-ZD", "metric": "quantity", "value": "6000"})
    assert target.status_code == 303
    [saved] = await ok(await here.admin.get(f"{API}/targets", params={"period": "2026-11"}))
    assert (saved["partner_id"], D(saved["value"])) == (here.ids["dealer"], D(6000))
    unknown = await form(here.admin, "/targets", {
        "period": "2026-11", "partner_code": "NOPE", "metric": "quantity", "value": "1"})
    assert unknown.status_code == 422 and "NOPE" in unknown.text

    csv = ("partner,date,ref,item,quantity,amount\n"
           "HB-ZD,2026-11-02,ERP-9,FILTER,5,250.00\n").encode("gb18030")
    imported = await form(here.admin, "/imports", {"label": "旧系统"},
                          files={"file": ("进货.csv", csv, "text/csv")})
    assert imported.status_code == 303, imported.text
    [batch] = await ok(await here.admin.get(f"{API}/imports"))
    assert (batch["label"], batch["rows"], D(batch["amount"])) == ("旧系统", 1, D("250.00"))
    bad = ("partner,date,ref,item,quantity,amount\n"
           "HB-ZD,2026-11-02,ERP-10,FILTER,5,250.00\nNOPE,2026-11-02,ERP-11,FILTER,1,1\n")
    refused = await form(here.admin, "/imports", {"label": "x"},
                         files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422 and "rows[1].partner" in refused.text
    missing = await form(here.admin, "/imports", {"label": "x"},
                         files={"file": ("bad.csv", b"partner,date\n", "text/csv")})
    assert missing.status_code == 422 and "ref" in missing.text
    assert len(await ok(await here.admin.get(f"{API}/imports"))) == 1
    # Partners and staff never reach the configuration.
    assert (await here.dealer_client.get(f"{CONFIG}/")).status_code == 403
