"""The price simulator page: the price, each applied step with its facts, the rules passed
over and why; errors next to the form; only for holders of pricing.simulate."""

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
def rules():
    rule_table.STORE.clear()
    rule_table.STORE.update({"310000": Decimal(10), "440000": Decimal(5)})
    yield
    rule_table.STORE.clear()


async def test_simulator_shows_price_steps_and_rules_passed_over(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["list_price", "rule_table"])
    admin = await jimu_platform.login(tenant.admin_username)
    page = await admin.get("/admin/pricing/simulator", params={
        "item": "labour-hour", "quantity": "2", "region_code": "310115"})
    assert page.status_code == 200
    html = page.text
    # 120.00 × 2 = 240.00, −10% for Shanghai = 216.00, Pudong +15% = 248.40
    assert 'data-testid="sim-total">¥248.40<' in html
    assert "浦东新区人工上浮15%" in html and "310000 −10%" in html
    assert "region 440000 not in 310000/310100/310115" in html  # considered, not applied
    assert "上海市 › 市辖区 › 浦东新区" in html
    assert 'href="/admin/pricing/simulator"' in html  # in the menu


async def test_simulator_updates_only_the_result_for_htmx(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["list_price", "rule_table"])
    admin = await jimu_platform.login(tenant.admin_username)
    partial = await admin.get("/admin/pricing/simulator", params={"item": "oil-filter"},
                              headers={"HX-Request": "true", "HX-Target": "sim-result"})
    assert partial.status_code == 200
    assert "<form" not in partial.text and "¥45.00" in partial.text


async def test_simulator_reports_bad_input_next_to_the_form(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["list_price"])
    admin = await jimu_platform.login(tenant.admin_username)
    for params, message in [
        ({"item": "oil-filter", "quantity": "0"}, "数量必须大于零"),
        ({"item": "oil-filter", "quantity": "abc"}, "数量必须是数字"),
        ({"item": "oil-filter", "region_code": "999999"}, "999999 不是有效的行政区划代码"),
        ({"item": "nothing"}, "没有已启用的插件能给出 nothing 的基础价"),
    ]:
        page = await admin.get("/admin/pricing/simulator", params=params)
        assert page.status_code == 200, params
        assert message in page.text, (params, page.text[-3000:])


async def test_partner_users_cannot_simulate_nor_ask_for_explanations(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["list_price"])
    admin = await jimu_platform.login(tenant.admin_username)
    partner = (await admin.post("/api/v1/partners", json={"code": "P1", "name": "一级"})).json()
    await admin.post("/api/v1/users", json={"username": "p1-user", "role": "partner",
                                            "password": "partner-pass-1",
                                            "partner_id": partner["id"]})
    user = await jimu_platform.login("p1-user", "partner-pass-1")
    assert (await user.get("/admin/pricing/simulator")).status_code == 403
    denied = await user.post("/api/v1/pricing/quote", json={"item": "oil-filter",
                                                             "explain": True})
    assert denied.status_code == 403 and denied.json()["field"] == "explain"
    plain = (await user.post("/api/v1/pricing/quote", json={"item": "oil-filter"})).json()
    assert plain["total"] == "45.00" and plain["facts"] == {}


async def test_template_text_may_hold_a_plain_percent_sign(jimu_platform):
    from jimu.web.ui import build_environment, kernel_themes

    env = build_environment(jimu_platform.kernel, kernel_themes(jimu_platform.kernel)["default"])
    template = env.from_string('{{ _("Tax rate (%)") }} | {{ _("%(count)s lines", count=3) }}')
    assert template.render() == "Tax rate (%) | 3 lines"
