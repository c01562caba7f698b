"""The core pricing pipeline: facts, prepared steps, the cache of plugin data, explanations,
rounding as a trace line, and errors that name the line."""

from decimal import Decimal

import pytest

from tests.sample_plugins import list_price, rule_table


@pytest.fixture
def jimu_plugins():
    return [list_price, rule_table]


@pytest.fixture
def jimu_load_installed():
    return False


@pytest.fixture(autouse=True)
def empty_rules():
    rule_table.STORE.clear()
    rule_table.LOADS.clear()


async def admin_of(platform, *plugins):
    tenant = await platform.make_tenant(plugins=plugins)
    return tenant, await platform.login(tenant.admin_username)


async def test_core_facts_reach_the_steps_and_the_answer(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price")
    partner = (await admin.post("/api/v1/partners", json={
        "code": "HB-YJ", "name": "天津一级", "level": "level1", "region_code": "120112"})).json()
    body = (await admin.post("/api/v1/pricing/quote", json={
        "item": "oil-filter", "partner_id": partner["id"], "on_date": "2026-12-01"})).json()
    assert body["facts"]["partner.level"] == "level1"
    assert body["facts"]["region.path"] == ["120000", "120100", "120112"]  # the partner's
    assert body["facts"]["on_date"] == "2026-12-01"
    assert body["total"] == "45.00" and body["tax"] == "0.00" and body["net"] == "45.00"


async def test_prepared_step_loads_its_data_once_until_invalidated(jimu_platform):
    tenant, admin = await admin_of(jimu_platform, "list_price", "rule_table")
    rule_table.STORE["310000"] = Decimal(10)
    lines = {"lines": [{"item": "oil-filter"}, {"item": "labour-hour", "quantity": "2"}],
             "region_code": "310115"}
    first = (await admin.post("/api/v1/pricing/lines", json=lines)).json()
    assert [line["total"] for line in first["lines"]] == ["40.50", "248.40"]
    assert first["total"] == "288.90"
    await admin.post("/api/v1/pricing/lines", json=lines)
    assert len(rule_table.LOADS) == 1  # one load for both lines and both calls
    rule_table.STORE["310115"] = Decimal(20)  # the deeper region now has a rule
    async with jimu_platform.as_tenant(tenant):
        from jimu_sdk import platform

        await platform().invalidate("rule_table.rules")
    third = (await admin.post("/api/v1/pricing/lines", json=lines)).json()
    assert len(rule_table.LOADS) == 2
    assert third["lines"][0]["total"] == "36.00"
    step = third["lines"][0]["trace"][1]
    assert (step["plugin"], step["rule"], step["facts"]) == (
        "rule_table", "310115", {"region.code": "310115"})


async def test_explain_lists_the_rules_passed_over(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price", "rule_table")
    rule_table.STORE["440000"] = Decimal(5)
    quiet = (await admin.post("/api/v1/pricing/quote", json={
        "item": "oil-filter", "region_code": "110105"})).json()
    assert quiet["considered"] == []
    explained = (await admin.post("/api/v1/pricing/quote", json={
        "item": "oil-filter", "region_code": "110105", "explain": True})).json()
    assert explained["considered"] == [{
        "plugin": "rule_table", "rule": "440000",
        "reason": "region 440000 not in 110000/110100/110105"}]


async def test_rounding_is_a_trace_line_so_the_trace_sums_to_the_total(jimu_platform):
    _, admin = await admin_of(jimu_platform, "rule_table")
    body = (await admin.post("/api/v1/pricing/quote", json={
        "item": "bad-unit", "quantity": "1"})).json()
    assert body["total"] == "0.33"
    assert body["trace"][-1]["plugin"] == "core" and body["trace"][-1]["rule"] == "rounding"
    assert sum(Decimal(t["change"]) for t in body["trace"]) == Decimal(body["total"])


@pytest.mark.parametrize(("line", "field", "status"), [
    ({"item": "oil-filter", "quantity": "0"}, "lines[1].quantity", 422),
    ({"item": "oil-filter", "quantity": "-3"}, "lines[1].quantity", 422),
    ({"item": "no-such-item"}, "lines[1].item", 409),  # no plugin can price it
    ({"item": "usd-item"}, "lines[1].currency", 409),
])
async def test_a_bad_line_fails_the_call_naming_the_line(jimu_platform, line, field, status):
    _, admin = await admin_of(jimu_platform, "list_price", "rule_table")
    answer = await admin.post("/api/v1/pricing/lines", json={
        "lines": [{"item": "oil-filter"}, line]})
    assert answer.status_code == status, answer.text
    assert answer.json()["field"] == field


async def test_a_plugin_refusing_a_line_answers_its_own_error(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price", "rule_table")
    answer = await admin.post("/api/v1/pricing/quote", json={"item": "discontinued"})
    assert answer.status_code == 422, answer.text  # not a 500: the plugin judged the input
    assert answer.json()["message"] == "item discontinued is no longer sold"
    failures = (await admin.get("/api/v1/plugins/rule_table")).json()
    assert failures["status"] == "ok"


async def test_a_step_answering_no_number_fails_closed(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price", "rule_table")
    rule_table.STORE["BROKEN"] = Decimal(1)
    answer = await admin.post("/api/v1/pricing/quote", json={"item": "oil-filter"})
    assert answer.status_code == 409, answer.text
    assert "rule_table" in answer.json()["message"]


async def test_unknown_region_and_partner_are_refused(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price")
    region = await admin.post("/api/v1/pricing/quote", json={
        "item": "oil-filter", "region_code": "999999"})
    assert region.status_code == 422 and region.json()["field"] == "region_code"
    partner = await admin.post("/api/v1/pricing/quote", json={
        "item": "oil-filter", "partner_id": 4242})
    assert partner.status_code == 422 and partner.json()["field"] == "partner_id"


async def test_plugin_audits_of_plain_text_read_back_as_text(jimu_platform):
    tenant, admin = await admin_of(jimu_platform, "list_price")
    from jimu_sdk import platform

    async with jimu_platform.as_tenant(tenant), jimu_platform.kernel.db.transaction():
        await platform().audit("list_price.entry", "entry:1", "52", "abc")
    entries = (await admin.get("/api/v1/audit", params={"action": "list_price.entry"})).json()
    assert [(e["before"], e["after"]) for e in entries["items"]] == [("52", "abc")]


async def test_a_region_answers_with_its_path_from_the_province(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    body = (await admin.get("/api/v1/regions/310115")).json()
    assert [r["name"] for r in body["path"]] == ["上海市", "市辖区", "浦东新区"]
    assert body["path"][1] == {"code": "310100", "name": "市辖区", "parent_code": "310000",
                               "level": "city"}
    assert (await admin.get("/api/v1/regions/999999")).status_code == 404


async def test_partner_and_customer_edits_reach_the_next_price(jimu_platform):
    # Pricing keeps the partner and customer rows it read in memory; an edit moves them on.
    _, admin = await admin_of(jimu_platform, "list_price")
    partner = (await admin.post("/api/v1/partners", json={
        "code": "HB-YJ", "name": "天津一级", "level": "level1", "region_code": "120112"})).json()
    customer = (await admin.post("/api/v1/customers", json={
        "name": "王先生", "level": "gold", "region_code": "120112"})).json()
    quote = {"item": "oil-filter", "partner_id": partner["id"], "customer_id": customer["id"]}
    facts = (await admin.post("/api/v1/pricing/quote", json=quote)).json()["facts"]
    assert (facts["partner.level"], facts["customer.level"]) == ("level1", "gold")
    assert (await admin.patch(f"/api/v1/partners/{partner['id']}",
                              json={"level": "level2"})).status_code == 200
    assert (await admin.patch(f"/api/v1/customers/{customer['id']}",
                              json={"level": "platinum", "region_code": "310115"})
            ).status_code == 200
    facts = (await admin.post("/api/v1/pricing/quote", json=quote)).json()["facts"]
    assert (facts["partner.level"], facts["customer.level"]) == ("level2", "platinum")
    assert facts["region.code"] == "310115"  # the customer's region now
    assert (await admin.delete(f"/api/v1/customers/{customer['id']}")).status_code == 204
    answer = await admin.post("/api/v1/pricing/quote", json=quote)
    assert answer.status_code == 422 and answer.json()["field"] == "customer_id"


async def test_a_step_with_nothing_to_do_sits_the_call_out(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price", "rule_table")
    rule_table.STORE.update({"310000": Decimal(10), "SKIP": Decimal(0)})
    body = (await admin.post("/api/v1/pricing/quote", json={
        "item": "oil-filter", "region_code": "310115"})).json()
    assert body["total"] == "45.00"  # no 10% off: prepare answered None
    assert [line["plugin"] for line in body["trace"]] == ["list_price"]


async def test_a_base_price_that_raises_fails_closed_and_is_recorded(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price", "rule_table")
    answer = await admin.post("/api/v1/pricing/quote", json={"item": "crash-item"})
    assert answer.status_code == 409
    body = answer.json()
    assert body["plugin"] == "rule_table" and "price table not loaded" in body["message"]
    failures = (await admin.get("/api/v1/hook-failures")).json()["items"]
    assert failures[0]["plugin"] == "rule_table"
    assert failures[0]["hook"] == "resolve_base_price"
