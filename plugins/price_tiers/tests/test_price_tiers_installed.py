async def test_plugin_is_installed(jimu_platform):
    assert "price_tiers" in jimu_platform.kernel.plugins.plugins
    tenant = await jimu_platform.make_tenant(plugins=["price_tiers"])
    admin = await jimu_platform.login(tenant.admin_username)
    r = await admin.get("/api/v1/price_tiers/tiers")
    assert r.status_code == 200, r.text
