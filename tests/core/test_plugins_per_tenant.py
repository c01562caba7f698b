"""Plugin loading, per-tenant enabling, dependencies, settings and failure containment."""

from decimal import Decimal

import pytest

from tests.sample_plugins import flaky, future_only, list_price, slow_facts, volume_discount


@pytest.fixture
def jimu_plugins():
    return [list_price, volume_discount, future_only, flaky, slow_facts]


@pytest.fixture
def jimu_settings():
    return {"hook_timeout": 0.3}


async def test_incompatible_plugin_is_refused_naming_both_versions(jimu_platform):
    broken = jimu_platform.kernel.plugins.broken["future_only"]
    assert "requires core API >=2.0" in broken.error
    assert "provides core API 1.0" in broken.error
    assert "future_only" not in jimu_platform.kernel.plugins.plugins


async def test_enabled_plugin_answers_only_its_tenant(jimu_platform, hook_calls):
    on = await jimu_platform.make_tenant(plugins=["list_price"])
    off = await jimu_platform.make_tenant()
    hooks_on = await jimu_platform.tenant_hooks(on)
    hooks_off = await jimu_platform.tenant_hooks(off)
    assert hooks_on.customer_facts(customer={"level": "platinum"}) == [{"list_price.vip": True}]
    assert hooks_off.customer_facts(customer={"level": "platinum"}) == []
    calls = hook_calls.named("customer_facts")
    assert calls[0].plugins == ["list_price"] and calls[1].plugins == []


async def test_enabling_pulls_in_dependencies(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    response = await admin.post("/api/v1/plugins/volume_discount/enable")
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] == ["list_price", "volume_discount"]


async def test_enabling_without_dependencies_is_refused_naming_them(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    response = await admin.post("/api/v1/plugins/volume_discount/enable",
                                json={"with_dependencies": False})
    assert response.status_code == 409
    assert "list_price" in response.json()["message"]
    assert (await admin.get("/api/v1/auth/me")).json()["enabled_plugins"] == []


async def test_disabling_a_needed_plugin_is_refused(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["volume_discount"])
    admin = await jimu_platform.login(tenant.admin_username)
    response = await admin.post("/api/v1/plugins/list_price/disable")
    assert response.status_code == 409
    assert "volume_discount" in response.json()["message"]
    assert (await admin.post("/api/v1/plugins/volume_discount/disable")).status_code == 200
    assert (await admin.post("/api/v1/plugins/list_price/disable")).status_code == 200


async def test_unknown_and_incompatible_plugins_answer_clearly(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    unknown = await admin.post("/api/v1/plugins/nope/enable")
    assert unknown.status_code == 404 and "nope" in unknown.json()["message"]
    incompatible = await admin.post("/api/v1/plugins/future_only/enable")
    assert incompatible.status_code == 409
    assert "requires core API" in incompatible.json()["message"]
    listing = {p["name"]: p for p in (await admin.get("/api/v1/plugins")).json()}
    assert listing["future_only"]["status"] == "broken"


async def test_quote_folds_steps_in_order_and_explains_each(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["volume_discount"])
    admin = await jimu_platform.login(tenant.admin_username)
    response = await admin.post("/api/v1/pricing/quote", json={
        "item": "labour-hour", "quantity": "10", "region_code": "310115"})
    assert response.status_code == 200, response.text
    body = response.json()
    # 120 × 10 = 1200 → 5% off = 1140 → Pudong +15% = 1311.00
    assert Decimal(body["total"]) == Decimal("1311.00")
    assert [line["rule"] for line in body["trace"]] == ["list", "ten-plus", "pudong-labour"]
    assert [line["plugin"] for line in body["trace"]] == [
        "list_price", "volume_discount", "list_price"]


async def test_failing_price_step_fails_closed_naming_the_plugin(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["list_price", "flaky"])
    admin = await jimu_platform.login(tenant.admin_username)
    response = await admin.post("/api/v1/pricing/quote", json={"item": "oil-filter"})
    assert response.status_code == 409
    body = response.json()
    assert body["plugin"] == "flaky" and "broken-rebate" in body["message"]
    failures = (await admin.get("/api/v1/hook-failures")).json()
    assert failures["total"] == 1
    assert failures["items"][0]["plugin"] == "flaky"
    assert "ZeroDivisionError" in failures["items"][0]["traceback"]


async def test_raising_and_slow_hooks_do_not_take_the_request_down(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["list_price", "flaky", "slow_facts"])
    admin = await jimu_platform.login(tenant.admin_username)
    created = await admin.post("/api/v1/customers", json={"name": "王芳", "level": "platinum"})
    detail = await admin.get(f"/api/v1/customers/{created.json()['id']}")
    assert detail.status_code == 200
    assert detail.json()["facts"] == {"list_price.vip": True}
    counts = {(c["plugin"], c["hook"]): c["count"]
              for c in (await admin.get("/api/v1/hook-failures")).json()["counts"]}
    assert counts == {("flaky", "customer_facts"): 1, ("slow_facts", "customer_facts"): 1}


async def test_settings_are_validated_per_field(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    admin = await jimu_platform.login(tenant.admin_username)
    bad = await admin.put("/api/v1/plugins/followups/settings",
                          json={"reminder_hour": 25, "recent_days": "x", "colour": "red"})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"reminder_hour", "recent_days", "colour"}
    good = await admin.put("/api/v1/plugins/followups/settings", json={"reminder_hour": 8})
    assert good.status_code == 200
    assert good.json() == {"reminder_hour": 8, "recent_days": 30}
    assert (await admin.get("/api/v1/plugins/followups/settings")).json()["reminder_hour"] == 8


async def test_routes_of_a_disabled_plugin_answer_404(jimu_platform):
    on = await jimu_platform.make_tenant(plugins=["followups"])
    off = await jimu_platform.make_tenant()
    assert (await (await jimu_platform.login(on.admin_username)).get(
        "/api/v1/followups/notes")).status_code == 200
    assert (await (await jimu_platform.login(off.admin_username)).get(
        "/api/v1/followups/notes")).status_code == 404


async def test_plugin_that_fails_to_import_is_listed_broken_while_the_platform_runs(
        jimu_platform_factory, monkeypatch):
    from importlib.metadata import EntryPoint

    import jimu.plugins

    real = jimu.plugins.entry_points

    def with_a_broken_one(group):
        broken = EntryPoint(name="half_done", value="tests.sample_plugins.missing_module",
                            group=group)
        return [*real(group=group), broken]

    monkeypatch.setattr(jimu.plugins, "entry_points", with_a_broken_one)
    platform = await jimu_platform_factory()
    assert "import failed: ModuleNotFoundError" in platform.kernel.plugins.broken[
        "half_done"].error
    assert "followups" in platform.kernel.plugins.plugins
    ready = await platform.client().get("/ready")
    assert ready.status_code == 200 and ready.json()["broken_plugins"] == ["half_done"]
    tenant = await platform.make_tenant()
    admin = await platform.login(tenant.admin_username)
    listed = {p["name"]: p for p in (await admin.get("/api/v1/plugins")).json()}
    assert listed["half_done"]["status"] == "broken"
    assert "No module named" in listed["half_done"]["error"]


async def test_plugin_with_an_unknown_hook_or_defaults_is_contained(jimu_platform_factory):
    import types

    from jimu_sdk import PluginMeta, hookimpl, localized

    def plugin(name, **hooks):
        module = types.ModuleType(f"tests.generated.{name}")
        module.meta = PluginMeta(name=name, version="1.0", title=localized("测", "Test"),
                                 description=localized("测", "Test"), author="t",
                                 requires_core=">=1.0")
        for hook_name, function in hooks.items():
            setattr(module, hook_name, hookimpl(function))
        return module

    def customer_fact(customer=None):
        return {"defaults.ok": customer is not None}

    misspelt = plugin("misspelt", register_route=lambda: [])
    defaults = plugin("defaults", customer_facts=customer_fact)
    platform = await jimu_platform_factory(plugins=[misspelt, defaults], installed=False)
    assert "does not exist" in platform.kernel.plugins.broken["misspelt"].error
    tenant = await platform.make_tenant(plugins=["defaults"])
    hooks = await platform.tenant_hooks(tenant)
    assert hooks.customer_facts(customer={"id": 1}) == [{"defaults.ok": True}]
