"""Checks run by ``test_scaffold.py`` inside a throwaway virtualenv, not by the workspace run.

There, only core, the SDK and one freshly scaffolded plugin are installed, the plugin as a built
wheel, so it reaches Jimu exactly as a third-party plugin does: through the ``jimu.plugins``
entry point. One tenant enables it through the API; another leaves it off and must not see it.
``JIMU_SCAFFOLD_SLUG`` names the plugin.
"""

import importlib
import json
import os
from importlib.metadata import entry_points

SLUG = os.environ["JIMU_SCAFFOLD_SLUG"]
NOTES = f"/api/v1/{SLUG}/notes"


async def add_customer(client, name):
    response = await client.post("/api/v1/customers", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_plugin_comes_from_its_installed_wheel_through_the_entry_point():
    (entry,) = [e for e in entry_points(group="jimu.plugins") if e.name == SLUG]
    assert entry.value == f"jimu_{SLUG}.plugin"
    assert entry.dist is not None
    assert entry.dist.name == f"jimu-{SLUG.replace('_', '-')}"
    direct_url = json.loads(entry.dist.read_text("direct_url.json") or "{}")
    assert not direct_url.get("dir_info", {}).get("editable", False)
    package = importlib.import_module(f"jimu_{SLUG}")
    assert "site-packages" in str(package.__file__), package.__file__


async def test_enabled_tenant_sees_the_plugin_and_the_other_does_not(jimu_platform, hook_calls):
    registry = jimu_platform.kernel.plugins
    assert SLUG in registry.plugins, registry.broken.get(SLUG)
    on = await jimu_platform.make_tenant()
    off = await jimu_platform.make_tenant()
    on_admin = await jimu_platform.login(on.admin_username)
    off_admin = await jimu_platform.login(off.admin_username)

    assert (await on_admin.get(NOTES)).status_code == 404  # installed, but off by default
    enabled = await on_admin.post(f"/api/v1/plugins/{SLUG}/enable")
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["enabled"] == [SLUG]

    customer_id = await add_customer(on_admin, "王芳")
    added = await on_admin.post(NOTES, json={"customer_id": customer_id, "body": "到店咨询"})
    assert added.status_code == 201, added.text
    assert [n["body"] for n in (await on_admin.get(NOTES)).json()] == ["到店咨询"]
    assert (await on_admin.get(f"/admin/p/{SLUG}/")).status_code == 200
    hook_calls.clear()
    profile = (await on_admin.get(f"/api/v1/customers/{customer_id}")).json()
    assert profile["facts"] == {f"{SLUG}.note_count": 1}
    assert hook_calls.named("customer_facts")[-1].plugins == [SLUG]

    for path in (NOTES, f"/admin/p/{SLUG}/"):
        assert (await off_admin.get(path)).status_code == 404, path
    other_id = await add_customer(off_admin, "张伟")
    refused = await off_admin.post(NOTES, json={"customer_id": other_id, "body": "不该存在"})
    assert refused.status_code == 404
    hook_calls.clear()
    profile = (await off_admin.get(f"/api/v1/customers/{other_id}")).json()
    assert profile["facts"] == {}
    assert hook_calls.named("customer_facts")[-1].plugins == []
    off_hooks = await jimu_platform.tenant_hooks(off)
    assert off_hooks.customer_facts(customer={"id": other_id}) == []
    listing = (await off_admin.get(f"/api/v1/plugins/{SLUG}")).json()
    assert listing["status"] == "ok" and listing["enabled"] is False

    disabled = await on_admin.post(f"/api/v1/plugins/{SLUG}/disable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert (await on_admin.get(NOTES)).status_code == 404
    hook_calls.clear()
    profile = (await on_admin.get(f"/api/v1/customers/{customer_id}")).json()
    assert profile["facts"] == {}
    assert hook_calls.named("customer_facts")[-1].plugins == []
