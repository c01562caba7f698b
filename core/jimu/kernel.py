"""The kernel: one object that owns a platform instance's database, plugins, jobs and clock.

The web app, the worker, the scheduler, the CLI and the SDK's test fixtures all build a
``Kernel``; nothing in core keeps module-level state, so several can live in one process.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from jimu_sdk.context import Scope, use_scope
from jimu_sdk.errors import NotFound

from jimu.db import Database
from jimu.db.tables import PluginConfig, Role, Tenant
from jimu.plugins import FailureLog, PluginRegistry, TenantHooks
from jimu.settings import Settings

log = logging.getLogger("jimu.kernel")
TENANT_VERSIONS = "SELECT config_version, data_version FROM core_tenant WHERE id = $1"


class Clock:
    """The platform's notion of now; tests freeze and advance it instead of sleeping."""

    def __init__(self) -> None:
        self._frozen: dt.datetime | None = None

    def now(self) -> dt.datetime:
        return self._frozen or dt.datetime.now(dt.UTC)

    def freeze(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("freeze the clock at a timezone-aware time")
        self._frozen = at

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._frozen = self.now() + delta
        return self._frozen

    def unfreeze(self) -> None:
        self._frozen = None


@dataclass(frozen=True)
class TenantState:
    """What a request needs to know about its tenant, cached per ``config_version``."""

    id: int
    slug: str
    name: str
    status: str
    config_version: int
    enabled: frozenset[str]
    settings: Mapping[str, Mapping[str, Any]]
    role_permissions: Mapping[str, frozenset[str]]
    hooks: TenantHooks
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    theme: str = "default"
    extra: dict[str, Any] = field(default_factory=dict)


class Kernel:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.clock = Clock()
        self.failures = FailureLog()
        self.plugins = PluginRegistry(hook_timeout=self.settings.hook_timeout,
                                      failures=self.failures)
        self._tenants: dict[int, TenantState] = {}
        # platform().cached: (tenant, name) -> (revision token, value), bounded.
        self.tenant_caches: OrderedDict[tuple[int, str], tuple[str, Any]] = OrderedDict()
        # Per tenant: the data version its revision tokens were read at, and the tokens.
        self.data_tokens: dict[int, tuple[int, dict[str, str]]] = {}
        # Moves on after a transaction that sent notifications commits; open notification
        # streams of this process check the database when it moves (services/notifications).
        self.notifications_pending = False
        self.notification_serial = 0
        # Per-process memos of immutable data (e.g. published flow graphs), by name.
        self.memo: dict[str, dict[Any, Any]] = {}
        self._db: Database | None = None
        self._jobs: Any = None
        self._scheduler: Any = None
        self._catalogs: Any = None
        self.login_failures: list[tuple[str, str, dt.datetime]] = []

    # ------------------------------------------------------------------ assembly

    def load_plugins(self, *modules: Any) -> None:
        """Load installed plugins from entry points, then any given modules (tests, SDK)."""
        if self.settings.load_plugins != ():
            self.plugins.load_entry_points(allow=self.settings.load_plugins,
                                           block=self.settings.block_plugins)
        for module in modules:
            self.plugins.add(module)
        self.plugins.finish_loading()

    @property
    def db(self) -> Database:
        if self._db is None:
            apps = [app for p in self.plugins.plugins.values()
                    if (app := p.contributions.get("register_piccolo_app"))]
            self._db = Database(self.settings.database_url, apps,
                                admin_url=self.settings.database_admin_url,
                                pool_size=self.settings.pool_size)
        return self._db

    @property
    def jobs(self) -> Any:
        if self._jobs is None:
            from jimu.jobs import JobSystem

            self._jobs = JobSystem(self)
        return self._jobs

    @property
    def scheduler(self) -> Any:
        if self._scheduler is None:
            from jimu.timers import Scheduler

            self._scheduler = Scheduler(self)
        return self._scheduler

    async def start(self, *, worker: bool | None = None, scheduler: bool | None = None) -> None:
        """Start what this process runs: in-process worker and scheduler by default."""
        self.db.activate()
        await self.db.prepare_sqlite()
        run_worker = self.settings.run_worker_in_process if worker is None else worker
        run_scheduler = (self.settings.run_scheduler_in_process
                         if scheduler is None else scheduler)
        self.jobs.bind_loop()
        self.jobs.declare_actors()
        await self.scheduler.sync_schedules()
        if run_worker:
            self.jobs.start_worker()
        if run_scheduler:
            self.scheduler.start_loop()
        # After a crash, whatever was written to the outbox but never finished goes out now.
        await self.jobs.requeue_lost_events()
        await self.jobs.relay_outbox()

    async def stop(self) -> None:
        if self._scheduler is not None:
            await self._scheduler.stop_loop()
        if self._jobs is not None:
            await self._jobs.stop()
        await self.flush_failures()
        if self._db is not None:
            await self._db.close()

    # ------------------------------------------------------------------ scopes

    @asynccontextmanager
    async def tenant_scope(self, tenant_id: int | None, *, user_id: int | None = None,
                           role: str | None = None, partner_id: int | None = None,
                           permissions: frozenset[str] | None = None, write: bool = True,
                           request_id: str = "") -> AsyncIterator[Scope]:
        """One transaction acting for ``tenant_id`` (jobs, timers, CLI and tests use this)."""
        from jimu.services.platform import KernelServices

        try:
            async with self.db.transaction(tenant_id=tenant_id, write=write):
                data_version = None
                if tenant_id is not None:
                    # Loaded for the platform services that read it (settings, time zone,
                    # the enabled plugins' contributions).
                    state, version = await self.read_tenant(tenant_id)
                    data_version = (tenant_id, version)
                    if permissions is None and role is not None:
                        permissions = state.role_permissions.get(role, frozenset())
                scope = Scope(tenant_id=tenant_id, user_id=user_id, role=role,
                              partner_id=partner_id, permissions=permissions or frozenset(),
                              request_id=request_id,
                              platform=KernelServices(self, data_version=data_version))
                with use_scope(scope):
                    yield scope
        finally:
            await self.after_transaction()

    @property
    def catalogs(self) -> Any:
        """The UI's message catalogs: core's and every installed plugin's."""
        if self._catalogs is None:
            from jimu.i18n import Catalogs

            self._catalogs = Catalogs.load(
                source for plugin in self.plugins.plugins.values()
                if (source := plugin.contributions.get("register_translations")))
        return self._catalogs

    async def after_transaction(self) -> None:
        """Work that must happen after a commit or rollback, never inside it."""
        await self.flush_failures()
        await self.flush_login_failures()
        if self.notifications_pending:
            self.notifications_pending = False
            self.notification_serial += 1
        if self._jobs is not None and self._jobs.events_pending:
            self._jobs.nudge_relay()

    async def flush_failures(self) -> None:
        from jimu.db.tables import HookFailure

        records = self.failures.take()
        if not records:
            return
        async with self.db.transaction():
            await HookFailure.insert(*[
                HookFailure(tenant_id=r.tenant_id, plugin=r.plugin, hook=r.hook, kind=r.kind,
                            error=r.error[:2000], traceback=r.traceback[-8000:])
                for r in records])

    async def flush_login_failures(self) -> None:
        # Failed sign-ins are written after the request's rollback, or throttling would forget
        # them (a failed request changes nothing).
        from jimu.db.tables import LoginFailure

        records, self.login_failures = self.login_failures, []
        if records:
            async with self.db.transaction():
                await LoginFailure.insert(*[LoginFailure(username=username[:150],
                                                         remote=remote[:64], at=at)
                                            for username, remote, at in records])

    # ------------------------------------------------------------------ tenants

    async def tenant_state(self, tenant_id: int, *, version: int | None = None) -> TenantState:
        """The tenant's cached state, reloaded when its configuration version moved on.

        Must run inside a transaction (it reads tenant-owned rows under row-level security).
        """
        cached = self._tenants.get(tenant_id)
        if cached is not None and version is not None and cached.config_version == version:
            return cached
        return (await self.read_tenant(tenant_id))[0]

    async def read_tenant(self, tenant_id: int) -> tuple[TenantState, int]:
        """The tenant's state and its data version as this transaction reads them (the
        version tells the scope's platform services whether cached data may be stale)."""
        cached = self._tenants.get(tenant_id)
        engine = self.db.engine
        if cached is not None and Tenant._meta.db is engine \
                and engine.current_transaction.get() is not None:
            # Every transaction of a tenant asks this: two numbers in plain SQL, not a row.
            from jimu.services.platform import sql_rows

            versions = await sql_rows(Tenant, TENANT_VERSIONS, tenant_id)
            if versions and versions[0]["config_version"] == cached.config_version:
                return cached, versions[0]["data_version"]
        row = await Tenant.select().where(Tenant.id == tenant_id).first()
        if row is None:
            raise NotFound(f"tenant {tenant_id} not found")
        state = await self._load_tenant_state(row)
        self._tenants[tenant_id] = state
        return state, row["data_version"]

    async def _load_tenant_state(self, row: Mapping[str, Any]) -> TenantState:
        from jimu.services.auth import CORE_PERMISSIONS

        tenant_id = row["id"]
        await self.db.set_tenant(tenant_id)
        configs = await PluginConfig.select().output(load_json=True).where(
            PluginConfig.tenant_id == tenant_id)
        roles = await Role.select(Role.name, Role.permissions).output(load_json=True).where(
            Role.tenant_id == tenant_id)
        enabled = frozenset(c["plugin"] for c in configs
                            if c["enabled"] and c["plugin"] in self.plugins.plugins)
        settings = {}
        for slug in self.plugins.plugins:
            stored = next((c["settings"] for c in configs if c["plugin"] == slug), None) or {}
            settings[slug] = {**self.plugins.settings_defaults(slug), **stored}
        return TenantState(
            id=tenant_id, slug=row["slug"], name=row["name"], status=row["status"],
            config_version=row["config_version"], enabled=enabled, settings=settings,
            # The built-in admin holds every core permission, also ones added by an upgrade.
            role_permissions={r["name"]: frozenset(r["permissions"]) | (
                frozenset(CORE_PERMISSIONS) if r["name"] == "admin" else frozenset())
                for r in roles},
            hooks=self.plugins.hooks_for(enabled), timezone=row["timezone"],
            locale=row["locale"], theme=row["theme"])

    def forget_tenant(self, tenant_id: int) -> None:
        self._tenants.pop(tenant_id, None)

    def cached_tenant_count(self) -> int:
        return len(self._tenants)
