"""One test per hook (``test_hook_<name>``): each shows the hook doing its job end to end.

``tests/meta/test_every_hook_tested.py`` fails when a hookspec has no test here.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from jimu_sdk import InboundRequest, OutboundMessage, PriceContext

from tests.sample_plugins import catalog, installer_share, ledger, list_price, volume_discount


@pytest.fixture
def jimu_plugins():
    return [list_price, volume_discount, ledger, catalog, installer_share]


def contributed(platform, slug, hook):
    return platform.kernel.plugins.plugins[slug].contributions[hook]


async def admin_of(platform, *plugins):
    tenant = await platform.make_tenant(plugins=plugins)
    return tenant, await platform.login(tenant.admin_username)


async def test_hook_register_piccolo_app(jimu_platform):
    tables = {t._meta.tablename for t in jimu_platform.kernel.db.tables}
    assert {"followups_note", "ledger_entry"} <= tables


async def test_hook_register_routes(jimu_platform):
    _, admin = await admin_of(jimu_platform, "followups")
    assert (await admin.get("/api/v1/followups/notes")).json() == []


async def test_hook_register_admin_pages(jimu_platform):
    _, admin = await admin_of(jimu_platform, "followups")
    page = await admin.get("/admin/p/followups/")
    assert page.status_code == 200 and "待跟进" in page.text


async def test_hook_register_menu_items(jimu_platform):
    [item] = contributed(jimu_platform, "followups", "register_menu_items")
    assert item.href == "/admin/p/followups/" and item.title["en"] == "Follow-ups"


async def test_hook_register_template_dir(jimu_platform):
    environment = jimu_platform.app.template_engine.engine
    assert environment.get_template("followups/due.html") is not None


async def test_hook_register_static_dir(jimu_platform):
    # work_orders ships a stylesheet; it is served under the plugin's slug, with no sign-in.
    answer = await jimu_platform.client().get("/static/p/work_orders/work_orders.css")
    assert answer.status_code == 200 and "--wo-urgent" in answer.text
    missing = await jimu_platform.client().get("/static/p/work_orders/../pyproject.toml")
    assert missing.status_code == 404


async def test_hook_register_jobs(jimu_platform):
    assert {"ledger.tick", "ledger.nightly", "followups.remind"} <= set(
        jimu_platform.kernel.jobs.jobs)


async def test_hook_register_cli_commands(jimu_platform):
    from jimu.cli import command_options
    from jimu.jobs import outside_transaction
    from jimu_sdk import JimuError

    from tests.sample_plugins.ledger.tables import LedgerEntry

    tenant, _ = await admin_of(jimu_platform, "ledger")
    async with jimu_platform.as_tenant(tenant):
        await LedgerEntry.scoped_insert(kind="job", ref=1)
    [command] = jimu_platform.kernel.plugins.plugins["ledger"].contributed(
        "register_cli_commands", [])
    reported = []
    ran, message = await outside_transaction(
        jimu_platform.kernel, "ledger", tenant.id,
        lambda: command.run(command_options(command, ["--kind", "job", "--verbose"]),
                            lambda percent, stage: reported.append((percent, stage))))
    assert (ran, message) == (True, "1 job entries (verbose)")
    assert reported == [(10, "counting"), (100, "counted")]
    with pytest.raises(JimuError, match="needs --kind"):
        command_options(command, [])
    with pytest.raises(JimuError, match="no option '--nope'"):
        command_options(command, ["--kind=job", "--nope"])
    off = await jimu_platform.make_tenant(plugins=())
    assert await outside_transaction(jimu_platform.kernel, "ledger", off.id,
                                     lambda: command.run({"kind": "job"}, print)) == (
        False, None)


async def test_hook_register_schedules(jimu_platform):
    assert jimu_platform.kernel.scheduler.schedules()["ledger:nightly"] == (
        "ledger", "0 2 * * *", "ledger.nightly")


async def test_hook_register_event_handlers(jimu_platform):
    tenant, admin = await admin_of(jimu_platform, "ledger")
    await admin.post("/api/v1/customers", json={"name": "王芳"})
    await jimu_platform.run_jobs()
    from tests.sample_plugins.ledger.tables import LedgerEntry

    async with jimu_platform.as_tenant(tenant):
        assert await LedgerEntry.scoped_count().where(
            LedgerEntry.kind == "customer.created") == 1


async def test_hook_register_settings_schema(jimu_platform):
    _, admin = await admin_of(jimu_platform, "followups")
    plugin = (await admin.get("/api/v1/plugins/followups")).json()
    assert plugin["settings"] == {"reminder_hour": 9, "recent_days": 30}
    assert plugin["settings_schema"]["$defs"]["Settings"]["properties"]["reminder_hour"][
        "maximum"] == 23


async def test_hook_register_permissions(jimu_platform):
    tenant, admin = await admin_of(jimu_platform, "followups")
    staff_role = next(r for r in (await admin.get("/api/v1/roles")).json()
                      if r["name"] == "staff")
    assert {"followups.read", "followups.write"} <= set(staff_role["permissions"])
    await jimu_platform.make_user(tenant, "viewer", role="staff")
    await admin.patch(f"/api/v1/roles/{staff_role['id']}", json={"permissions": [
        "customers.read"]})
    viewer = await jimu_platform.login("viewer")
    assert (await viewer.get("/api/v1/followups/notes")).status_code == 403


async def test_hook_register_translations(jimu_platform):
    catalogs = jimu_platform.kernel.catalogs
    zh = catalogs.gettext("Nobody is due for follow-up today.", "zh-CN")
    assert zh == "今天没有待跟进的客户。"
    _, admin = await admin_of(jimu_platform, "followups")
    chinese = await admin.get("/admin/p/followups/")
    assert "今天没有待跟进的客户。" in chinese.text
    await admin.post("/account/language", data={"locale": "en"})  # remembered on the user
    english = await admin.get("/admin/p/followups/")
    assert "Nobody is due for follow-up today." in english.text


async def test_hook_register_dashboard_widgets(jimu_platform):
    tenant, admin = await admin_of(jimu_platform, "followups")
    [customer] = [(await admin.post("/api/v1/customers", json={"name": "王芳"})).json()]
    today = (await admin.get("/api/v1/followups/notes")).status_code  # the plugin answers
    assert today == 200
    async with jimu_platform.as_tenant(tenant):
        from jimu_followups.services import today as tenant_today
        due = str(tenant_today())
    await admin.post("/api/v1/followups/notes", json={
        "customer_id": customer["id"], "body": "回访", "next_contact_on": due})
    home = await admin.get("/admin/")
    assert home.status_code == 200
    card = home.text.split('data-widget="followups.due"', 1)[1].split("</article>", 1)[0]
    assert ">1</a>" in card
    other = await jimu_platform.make_tenant(plugins=())
    other_home = await (await jimu_platform.login(other.admin_username)).get("/admin/")
    assert 'data-widget="followups.due"' not in other_home.text


async def test_hook_register_demo_data(jimu_platform):
    from jimu.demo import ensure_demo
    from jimu_followups.tables import FollowUp

    await ensure_demo(jimu_platform.kernel, "demo-password-1")
    async with jimu_platform.kernel.tenant_scope(None):
        from jimu.db.tables import Tenant

        demo = await Tenant.select(Tenant.id).where(Tenant.slug == "demo").first()
    async with jimu_platform.as_tenant(demo["id"]):
        assert await FollowUp.scoped_count() == 3


async def test_hook_register_pricing_steps(jimu_platform):
    _, admin = await admin_of(jimu_platform, "volume_discount")
    body = (await admin.post("/api/v1/pricing/quote", json={
        "item": "oil-filter", "quantity": "12"})).json()
    assert body["trace"][1] == {"plugin": "volume_discount", "rule": "ten-plus",
                                "reason": "10件起95折", "before": "540.00",
                                "after": "513.0000", "change": "-27.0000", "kind": "price",
                                "facts": {"volume_discount.band": "10+"}}
    assert Decimal(body["total"]) == Decimal("513.00")


async def test_hook_pricing_facts(jimu_platform):
    _, admin = await admin_of(jimu_platform, "volume_discount")
    lines = (await admin.post("/api/v1/pricing/lines", json={
        "lines": [{"item": "oil-filter", "quantity": "2"},
                  {"item": "oil-filter", "quantity": "10"}]})).json()["lines"]
    assert [line["facts"]["volume_discount.band"] for line in lines] == ["1-9", "10+"]
    assert [line["total"] for line in lines] == ["90.00", "427.50"]


async def test_hook_register_price_factor_kinds(jimu_platform):
    [kind] = contributed(jimu_platform, "catalog", "register_price_factor_kinds")
    tenant, admin = await admin_of(jimu_platform, "catalog")
    adds = (await admin.get("/api/v1/plugins/catalog")).json()["adds"]
    assert adds["price_factor_kinds"] == ["carbon_credit"]
    from jimu_sdk import Money, platform

    async with jimu_platform.as_tenant(tenant):
        [(slug, offered)] = platform().contributions("register_price_factor_kinds")
    assert (slug, offered) == ("catalog", kind)
    params = kind.params(amount=Decimal("3"))
    assert kind.apply(None, Money("10"), params).total == Money("7")


async def test_hook_register_revenue_split_steps(jimu_platform):
    from jimu_sdk import Money, SplitContext, SplitLine, platform

    tenant, admin = await admin_of(jimu_platform, "installer_share")
    adds = (await admin.get("/api/v1/plugins/installer_share")).json()["adds"]
    assert adds["revenue_split_steps"] == ["100:installer-labour", "200:dealer-parts"]
    installer = (await admin.post("/api/v1/partners", json={
        "code": "INST", "name": "安装服务商", "kind": "installer"})).json()["id"]
    async with jimu_platform.as_tenant(tenant):
        [split] = await platform().split_revenue([SplitContext(
            tenant.id, "work_orders:1", "work_order",
            (SplitLine("labour", "labour", Money("100.00")),), {"installer": installer})])
    assert split.lines[0].shares == {"enterprise": Money("30.00"),
                                     "installer": Money("70.00")}


async def test_hook_register_workflow_nodes(jimu_platform):
    [node] = contributed(jimu_platform, "catalog", "register_workflow_nodes")
    answer = node.enter(SimpleNamespace(settings=node.settings(template="到货提醒")))
    assert answer.note == "sent 到货提醒" and answer.outcome == "next"
    _, admin = await admin_of(jimu_platform, "catalog")
    adds = (await admin.get("/api/v1/plugins/catalog")).json()["adds"]
    assert adds["workflow_nodes"] == ["catalog.notify"]


async def test_hook_register_channels(jimu_platform):
    [channel] = contributed(jimu_platform, "catalog", "register_channels")
    import hashlib
    import hmac

    body = b'{"id": "m-1", "text": "hi"}'
    signature = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    request = InboundRequest(headers={"x-signature": signature}, query={}, body=body)
    assert channel.verify(request, "s3cret") and not channel.verify(request, "wrong")
    assert channel.parse(request)[0].external_id == "m-1"
    sent = await channel.send(OutboundMessage(kind="text", recipient="u1", payload={}), {})
    assert sent.external_id == "echo-u1"
    _, admin = await admin_of(jimu_platform, "catalog")
    assert (await admin.get("/api/v1/plugins/catalog")).json()["adds"]["channels"] == ["echo"]


async def test_hook_register_tag_rules(jimu_platform):
    _, admin = await admin_of(jimu_platform, "followups")
    customer = (await admin.post("/api/v1/customers", json={"name": "李强"})).json()["id"]
    await admin.post("/api/v1/followups/notes", json={"customer_id": customer, "body": "x"})
    detail = (await admin.get(f"/api/v1/customers/{customer}")).json()
    assert "followups.recently_contacted" in detail["derived_tags"]


async def test_hook_resolve_base_price(jimu_platform):
    on = await jimu_platform.make_tenant(plugins=["list_price"])
    off = await jimu_platform.make_tenant()
    context = PriceContext(tenant_id=on.id, item="oil-filter", on_date=dt.date(2026, 1, 1))
    answer = (await jimu_platform.tenant_hooks(on)).resolve_base_price(context=context)
    assert answer.unit_price.amount == Decimal("45.00")
    assert (await jimu_platform.tenant_hooks(off)).resolve_base_price(context=context) is None


async def test_hook_customer_facts(jimu_platform):
    _, admin = await admin_of(jimu_platform, "list_price")
    customer = (await admin.post("/api/v1/customers", json={
        "name": "陈静", "level": "platinum"})).json()["id"]
    assert (await admin.get(f"/api/v1/customers/{customer}")).json()["facts"] == {
        "list_price.vip": True}
