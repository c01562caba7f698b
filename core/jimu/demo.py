"""The demo tenant: partners, customers and every installed plugin's sample data."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jimu.db.tables import Customer, Partner, Tenant, User
from jimu.jobs import await_maybe
from jimu.services.auth import hash_password
from jimu.services.tenants import create_tenant

if TYPE_CHECKING:
    from jimu.kernel import Kernel

DEMO_SLUG = "demo"
LOGINS = {
    "platform operator": "operator",
    "tenant admin": "demo-admin",
    "staff": "demo-staff",
    "partner (dealer)": "demo-dealer",
    "partner (installer)": "demo-installer",
}

PARTNERS = [
    # code, name, kind, level, parent code, region
    ("HB-ZD", "华北总代·北京京联商贸", "dealer", "general_agent", None, "110105"),
    ("HB-YJ-TJ", "天津津南一级代理", "dealer", "level1", "HB-ZD", "120112"),
    ("HB-EJ-LF", "廊坊二级代理", "dealer", "level2", "HB-YJ-TJ", "131000"),
    ("HN-ZD", "华南总代·广州粤通", "dealer", "general_agent", None, "440106"),
    ("HN-YJ-SZ", "深圳福田一级代理", "dealer", "level1", "HN-ZD", "440304"),
    ("HB-MD-CY", "北京朝阳社区便利店", "store", "", "HB-ZD", "110105"),  # ~5000 cases/month
    ("HN-MD-TH", "广州天河社区小卖部", "store", "", "HN-ZD", "440106"),  # ~200 cases/month
    ("HG-SH-XH", "蜀香火锅·上海徐汇店", "store", "", None, "310104"),  # tier-1 city
    ("HG-CD-JJ", "蜀香火锅·成都锦江店", "store", "", None, "510104"),  # tier-2 city
    ("HG-MY-FC", "蜀香火锅·绵阳涪城店", "store", "", None, "510703"),  # tier-3 city
    ("HG-DY-XC", "蜀香火锅·大邑县城店", "store", "", None, "510129"),  # county
    ("SH-PD-01", "浦东张江门店", "store", "", None, "310115"),
    ("SZ-INST-01", "苏州吴中安装服务商", "installer", "", None, "320506"),
    ("SZ-SP-01", "苏州园区设备维修服务商", "service_provider", "", None, "320506"),
]

CUSTOMERS = [
    ("王芳", "13800138001", "gold", "SH-PD-01", "310115"),
    ("李强", "13900139002", "platinum", "HB-ZD", "110105"),
    ("张伟", "13700137003", "regular", "HB-EJ-LF", "131000"),
    ("陈静", "13600136004", "silver", "HN-ZD", "440106"),
    ("刘洋", "13500135005", "regular", "SZ-INST-01", "320506"),
    ("赵敏", "13400134006", "gold", "HB-YJ-TJ", "120112"),
]


PRICING_HOOKS = ("register_pricing_steps", "pricing_facts", "resolve_base_price",
                 "register_price_factor_kinds")


def _seeding_order(item: tuple[str, Any]) -> tuple[int, str]:
    """Plugins that make prices seed first, so documents other plugins price in their sample
    data (quotations, orders) see the whole pricing configuration; then by slug."""
    slug, plugin = item
    prices = any(hasattr(plugin.module, hook) for hook in PRICING_HOOKS)
    return (0 if prices else 1, slug)


async def ensure_demo(kernel: Kernel, password: str,
                      progress: Callable[[str], None] = lambda _: None) -> dict[str, str]:
    """Create the demo tenant once; on later runs only reset the demo logins' password."""
    password_hash = hash_password(password)
    async with kernel.tenant_scope(None):
        existing = await Tenant.select(Tenant.id).where(Tenant.slug == DEMO_SLUG).first()
        if existing is not None:
            progress("resetting demo passwords")
            await User.update({User.password_hash: password_hash, User.is_active: True}
                              ).where(User.username.is_in(list(LOGINS.values())))
            return LOGINS
        progress("creating the demo tenant")
        if not await User.exists().where(User.username == LOGINS["platform operator"]):
            await User.insert(User(tenant_id=None, username=LOGINS["platform operator"],
                                   display_name="平台运营", password_hash=password_hash,
                                   role="operator", is_platform_operator=True))
        tenant = await create_tenant(
            kernel, slug=DEMO_SLUG, name="积木演示企业", admin_username=LOGINS["tenant admin"],
            admin_password=password, plugins=sorted(kernel.plugins.plugins))
    async with kernel.tenant_scope(tenant["id"]):
        progress("adding partners and customers")
        ids: dict[str, int] = {}
        for code, name, kind, level, parent, region in PARTNERS:
            row = await Partner.scoped_insert(code=code, name=name, kind=kind, level=level,
                                              parent_id=ids.get(parent or ""),
                                              region_code=region)
            ids[code] = row["id"]
        for name, phone, level, partner, region in CUSTOMERS:
            await Customer.scoped_insert(name=name, phone=f"+86{phone}", level=level,
                                         partner_id=ids[partner], region_code=region, tags=[])
        await User.insert(
            User(tenant_id=tenant["id"], username=LOGINS["staff"], display_name="客服小周",
                 password_hash=password_hash, role="staff"),
            User(tenant_id=tenant["id"], username=LOGINS["partner (dealer)"],
                 display_name="华北总代", password_hash=password_hash, role="partner",
                 partner_id=ids["HB-ZD"]),
            User(tenant_id=tenant["id"], username=LOGINS["partner (installer)"],
                 display_name="苏州吴中安装·王师傅", password_hash=password_hash,
                 role="partner", partner_id=ids["SZ-INST-01"]))
        for slug, plugin in sorted(kernel.plugins.plugins.items(), key=_seeding_order):
            seeder = plugin.contributions.get("register_demo_data")
            if seeder is not None:
                progress(f"sample data of {slug}")
                await await_maybe(seeder(tenant["id"]))
    return LOGINS
