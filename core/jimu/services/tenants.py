"""Tenants and their plugin configuration: create, suspend, enable, disable, settings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from jimu_sdk.context import as_tenant, current_tenant_id, platform
from jimu_sdk.errors import Conflict, NotFound, ValidationFailed

from jimu.db.tables import PluginConfig, Role, Tenant, User
from jimu.i18n import N_
from jimu.services.auth import ensure_builtin_roles, hash_password
from jimu.web.listing import apply_sort, like_pattern, page_slice

if TYPE_CHECKING:
    from jimu.kernel import Kernel

TENANT_SORTS = ("id", "slug", "name", "created_at", "status")
TENANT_STATUSES = ("active", "suspended")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@+-]{2,150}$")


def check_username(username: str, field: str = "username") -> None:
    if not USERNAME_RE.match(username or ""):
        raise ValidationFailed(
            N_("a username has 2-150 letters, digits or . _ @ + -"), field=field)


async def create_tenant(kernel: Kernel, *, slug: str, name: str, admin_username: str,
                        admin_password: str, plugins: list[str] | None = None,
                        timezone: str = "Asia/Shanghai", locale: str = "zh-CN") -> dict[str, Any]:
    """Create a tenant with its built-in roles, first admin and chosen plugins (one transaction)."""
    if not SLUG_RE.match(slug or ""):
        raise ValidationFailed(N_("a code has 2-63 lowercase letters, digits or '-', "
                                  "starting with a letter"), field="slug")
    if not name.strip():
        raise ValidationFailed(N_("the organisation needs a name"), field="name")
    if locale not in ("zh-CN", "en"):
        raise ValidationFailed(N_("the language must be zh-CN or en"), field="locale")
    if timezone not in available_timezones():
        raise ValidationFailed(N_("unknown time zone %(zone)s; use an IANA name such as "
                                  "Asia/Shanghai"), field="timezone", params={"zone": timezone})
    check_username(admin_username, "admin_username")
    if not admin_password:
        raise ValidationFailed(N_("the first admin needs a password"), field="admin_password")
    password_hash = hash_password(admin_password)
    if await Tenant.exists().where(Tenant.slug == slug):
        raise Conflict(N_("an organisation with code %(slug)s already exists"), field="slug",
                       params={"slug": slug})
    if await User.exists().where(User.username == admin_username):
        raise Conflict(N_("the username %(username)s is taken"), field="admin_username",
                       params={"username": admin_username})
    tenant = Tenant(slug=slug, name=name.strip(), timezone=timezone, locale=locale,
                    created_at=kernel.clock.now())
    await tenant.save()
    await kernel.db.set_tenant(tenant.id)
    with as_tenant(tenant.id):
        await ensure_builtin_roles(kernel, tenant.id)
        admin = User(tenant_id=tenant.id, username=admin_username, display_name=admin_username,
                     password_hash=password_hash, role="admin")
        await admin.save()
        for slug_ in plugins or []:
            await enable_plugin(kernel, slug_, with_dependencies=True)
        await platform().audit("tenant.create", f"tenant:{tenant.id}", None,
                               {"slug": slug, "name": name, "admin": admin_username})
    return {**tenant.to_dict(), "admin_user_id": admin.id}


async def list_tenants(*, q: str | None = None, status: str | None = None,
                       sort: str | None = None, page: int = 1, per_page: int = 50
                       ) -> tuple[list[dict[str, Any]], int]:
    """Platform operators: one page of tenants, and how many match."""
    where: list[Any] = []
    if q:
        where.append(Tenant.name.ilike(like_pattern(q)) | Tenant.slug.ilike(like_pattern(q)))
    if status:
        where.append(Tenant.status == status)
    query = apply_sort(Tenant.select().where(*where), Tenant, sort, TENANT_SORTS, "id")
    rows = await page_slice(query, page, per_page)
    return rows, await Tenant.count().where(*where)


async def set_tenant_status(kernel: Kernel, tenant_id: int, status: str) -> dict[str, Any]:
    row = await Tenant.select().where(Tenant.id == tenant_id).first()
    if row is None:
        raise NotFound(N_("organisation %(id)s not found"), params={"id": tenant_id})
    if row["status"] == status:
        return row
    await Tenant.update({Tenant.status: status,
                         Tenant.config_version: Tenant.config_version + 1}
                        ).where(Tenant.id == tenant_id)
    await kernel.db.set_tenant(tenant_id)
    with as_tenant(tenant_id):
        await platform().audit(f"tenant.{'suspend' if status == 'suspended' else 'resume'}",
                               f"tenant:{tenant_id}", {"status": row["status"]},
                               {"status": status})
    kernel.forget_tenant(tenant_id)
    return {**row, "status": status}


async def bump_config_version() -> None:
    tenant_id = current_tenant_id()
    await Tenant.update({Tenant.config_version: Tenant.config_version + 1}
                        ).where(Tenant.id == tenant_id)


async def _enabled_set() -> set[str]:
    rows = await PluginConfig.scoped_select(PluginConfig.plugin).where(
        PluginConfig.enabled.eq(True))
    return {r["plugin"] for r in rows}


async def _set_enabled(kernel: Kernel, slug: str, enabled: bool) -> None:
    now = kernel.clock.now()
    updated = await PluginConfig.scoped_update(
        {PluginConfig.enabled: enabled, PluginConfig.updated_at: now}
    ).where(PluginConfig.plugin == slug).returning(PluginConfig.id)
    if not updated:
        await PluginConfig.scoped_insert(plugin=slug, enabled=enabled, settings={},
                                         updated_at=now)


async def _grant_plugin_permissions(kernel: Kernel, slug: str) -> None:
    permissions = kernel.plugins.get(slug).contributed("register_permissions", [])
    if not permissions:
        return
    roles = {r["name"]: r for r in await Role.scoped_select()}
    for role_name, role in roles.items():
        wanted = {p.key for p in permissions if role_name in p.default_roles}
        if wanted - set(role["permissions"]):
            await Role.scoped_update(
                {Role.permissions: sorted(set(role["permissions"]) | wanted)}
            ).where(Role.id == role["id"])


async def enable_plugin(kernel: Kernel, slug: str, *, with_dependencies: bool = True
                        ) -> list[str]:
    """Enable ``slug`` for the current tenant; returns every plugin newly enabled.

    Dependencies that are off are enabled too, or, with ``with_dependencies=False``, the call
    is refused naming them.
    """
    kernel.plugins.get(slug)  # 404 for unknown, 409 for broken
    needed = kernel.plugins.dependency_closure(slug)
    enabled = await _enabled_set()
    missing = [d for d in needed if d not in enabled]
    if missing and not with_dependencies:
        raise Conflict(f"plugin {slug} needs {', '.join(missing)} enabled first",
                       field="plugin", missing=missing)
    newly = [d for d in [*missing, slug] if d not in enabled]
    for name in newly:
        await _set_enabled(kernel, name, True)
        await _grant_plugin_permissions(kernel, name)
    if newly:
        await bump_config_version()
        await platform().audit("plugin.enable", f"plugin:{slug}", sorted(enabled),
                               sorted(enabled | set(newly)))
    return newly


async def disable_plugin(kernel: Kernel, slug: str) -> bool:
    """Disable ``slug`` for the current tenant; refused while an enabled plugin needs it."""
    if slug not in kernel.plugins.plugins and slug not in kernel.plugins.broken:
        raise NotFound(f"no plugin named {slug!r} is installed")
    enabled = await _enabled_set()
    if slug not in enabled:
        return False
    needing = kernel.plugins.dependents(slug, enabled)
    if needing:
        raise Conflict(f"plugin {slug} is needed by {', '.join(needing)}; disable those first",
                       field="plugin", needed_by=needing)
    await _set_enabled(kernel, slug, False)
    await bump_config_version()
    await platform().audit("plugin.disable", f"plugin:{slug}", sorted(enabled),
                           sorted(enabled - {slug}))
    return True


async def save_plugin_settings(kernel: Kernel, slug: str, data: dict[str, Any]
                               ) -> dict[str, Any]:
    clean = kernel.plugins.validate_settings(slug, data)
    row = await PluginConfig.scoped_select().where(PluginConfig.plugin == slug).first()
    before = row["settings"] if row else {}
    if row is None:
        await PluginConfig.scoped_insert(plugin=slug, enabled=False, settings=clean,
                                         updated_at=kernel.clock.now())
    else:
        await PluginConfig.scoped_update(
            {PluginConfig.settings: clean, PluginConfig.updated_at: kernel.clock.now()}
        ).where(PluginConfig.id == row["id"])
    await bump_config_version()
    await platform().audit("plugin.settings", f"plugin:{slug}", before, clean)
    return clean
