"""A whole Jimu platform for one test: its own database, app, broker, clock and clients.

Used through the pytest fixtures in :mod:`jimu_sdk.testing.plugin`. The database is a copy of
a migrated template (a SQLite file copy, or ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so
each test starts clean without re-running migrations.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_TEMPLATE_LOCK = 0x6A696D75  # "jimu": the advisory lock held while building a template


@dataclass
class HookCall:
    hook: str
    plugins: list[str]
    kwargs: dict[str, Any]


@dataclass
class HookCallRecorder:
    """Every hook call made through the platform's plugin manager, in order."""

    calls: list[HookCall] = field(default_factory=list)

    def named(self, hook: str) -> list[HookCall]:
        return [c for c in self.calls if c.hook == hook]

    def clear(self) -> None:
        self.calls.clear()


@dataclass
class TestTenant:
    id: int
    slug: str
    admin_username: str
    password: str


class ApiClient(httpx.AsyncClient):
    """An httpx client bound to the app, signed in as one user (or anonymous)."""

    username: str | None = None


def _with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


class TestPlatform:
    """One isolated platform: ``kernel``, ``app``, clients, tenants, jobs and the clock."""

    __test__ = False  # not a test class for pytest

    def __init__(self, kernel: Any, app: Any, database_name: str | None) -> None:
        self.kernel = kernel
        self.app = app
        self.database_name = database_name
        self.clock = kernel.clock
        self._clients: list[httpx.AsyncClient] = []
        self.hook_calls = HookCallRecorder()
        self._undo_monitoring = kernel.plugins.pm.add_hookcall_monitoring(
            self._before_hook, lambda *_: None)

    def _before_hook(self, hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]
                     ) -> None:
        self.hook_calls.calls.append(HookCall(hook_name, [i.plugin_name for i in hook_impls],
                                              dict(kwargs)))

    # ------------------------------------------------------------------ clients

    def client(self) -> ApiClient:
        """An anonymous client; sign in with :meth:`login`."""
        client = ApiClient(transport=httpx.ASGITransport(app=self.app),
                           base_url="http://testserver")
        self._clients.append(client)
        return client

    async def login(self, username: str, password: str = DEFAULT_PASSWORD) -> ApiClient:
        """A client signed in as ``username``; unsafe calls carry its CSRF token."""
        client = self.client()
        response = await client.post("/api/v1/auth/login",
                                     json={"username": username, "password": password})
        if response.status_code != 200:
            raise AssertionError(f"login of {username} failed: {response.text}")
        me = (await client.get("/api/v1/auth/me")).json()
        client.headers["X-CSRF-Token"] = me["csrf_token"]
        client.username = username
        return client

    def token_client(self, token: str) -> ApiClient:
        client = self.client()
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    # ------------------------------------------------------------------ tenants and users

    async def make_tenant(self, slug: str | None = None, *, plugins: Iterable[str] = (),
                          config: dict[str, dict[str, Any]] | None = None,
                          password: str = DEFAULT_PASSWORD) -> TestTenant:
        """A tenant with an admin (``<slug>-admin``), the given plugins on and settings saved."""
        from jimu.services.tenants import create_tenant, save_plugin_settings

        slug = slug or f"t{next(_counter)}-{uuid.uuid4().hex[:6]}"
        admin = f"{slug}-admin"
        async with self.kernel.tenant_scope(None):
            row = await create_tenant(self.kernel, slug=slug, name=f"Tenant {slug}",
                                      admin_username=admin, admin_password=password,
                                      plugins=list(plugins))
        if config:
            async with self.kernel.tenant_scope(row["id"]):
                for plugin, settings in config.items():
                    await save_plugin_settings(self.kernel, plugin, settings)
        return TestTenant(id=row["id"], slug=slug, admin_username=admin, password=password)

    async def make_user(self, tenant: TestTenant | None, username: str, *, role: str = "staff",
                        partner_id: int | None = None, password: str = DEFAULT_PASSWORD) -> int:
        """A user in ``tenant`` (or a platform operator when ``tenant`` is ``None``)."""
        from jimu.db.tables import User
        from jimu.services.auth import hash_password

        async with self.kernel.tenant_scope(tenant.id if tenant else None):
            user = User(tenant_id=tenant.id if tenant else None, username=username,
                        display_name=username, password_hash=hash_password(password),
                        role="operator" if tenant is None else role, partner_id=partner_id,
                        is_platform_operator=tenant is None)
            await user.save()
            return user.id

    @contextlib.asynccontextmanager
    async def as_tenant(self, tenant: TestTenant | int, *, role: str = "admin"
                        ) -> AsyncIterator[Any]:
        """Run code inside a tenant's scope and transaction, as the given role."""
        tenant_id = tenant if isinstance(tenant, int) else tenant.id
        async with self.kernel.tenant_scope(tenant_id, role=role) as scope:
            yield scope

    async def tenant_hooks(self, tenant: TestTenant | int) -> Any:
        """The hook callers that reach only this tenant's enabled plugins."""
        tenant_id = tenant if isinstance(tenant, int) else tenant.id
        async with self.kernel.tenant_scope(tenant_id, write=False):
            return (await self.kernel.tenant_state(tenant_id)).hooks

    # ------------------------------------------------------------------ jobs and time

    async def run_jobs(self) -> None:
        """Relay the outbox, fire due timers and wait until the worker has done everything."""
        await self.kernel.jobs.drain()

    async def advance(self, **delta: float) -> None:
        """Move the platform clock forward (``hours=2``) and run whatever became due."""
        import datetime as dt

        self.clock.freeze(self.clock.now())
        self.clock.advance(dt.timedelta(**delta))
        await self.run_jobs()

    async def close(self) -> None:
        self._undo_monitoring()
        for client in self._clients:
            await client.aclose()


# ---------------------------------------------------------------------- databases


class DatabaseFactory:
    """Hands each test a fresh, migrated database, copied from a per-app-set template."""

    def __init__(self, base_url: str | None, workdir: Path) -> None:
        self.base_url = base_url
        self.workdir = workdir
        self._templates: dict[str, str] = {}
        self.is_postgres = bool(base_url and base_url.startswith(("postgres://",
                                                                    "postgresql://")))

    async def fresh(self, kernel_factory: Any, apps_key: str, tmp_path: Path
                    ) -> tuple[str, str | None]:
        """``(database_url, database name to drop afterwards)``."""
        template = self._templates.get(apps_key)
        if template is None:
            template = await self._build_template(kernel_factory, apps_key)
            self._templates[apps_key] = template
        if not self.is_postgres:
            path = tmp_path / "jimu.sqlite3"
            shutil.copyfile(template, path)
            return f"sqlite:///{path}", None
        name = f"jimu_test_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        assert self.base_url is not None
        return _with_database(self.base_url, name), name

    async def _build_template(self, kernel_factory: Any, apps_key: str) -> str:
        digest = hashlib.sha1(apps_key.encode()).hexdigest()[:10]
        if self.is_postgres:
            assert self.base_url is not None
            name = f"jimu_tpl_{os.getpid()}_{digest}"
            await self._admin(f'DROP DATABASE IF EXISTS "{name}"')
            await self._admin(f'CREATE DATABASE "{name}"')
            url = _with_database(self.base_url, name)
        else:
            path = self.workdir / f"template-{digest}.sqlite3"
            path.unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        async with self._template_lock():
            kernel = kernel_factory(url)
            try:
                await kernel.db.migrate()
                await kernel.db.prepare_sqlite()
            finally:
                await kernel.db.close()
        return name if self.is_postgres else str(path)

    @contextlib.asynccontextmanager
    async def _template_lock(self) -> AsyncIterator[None]:
        """One template build at a time on a PostgreSQL cluster.

        Parallel test processes (pytest-xdist) start building at the same moment, and the first
        migration on a fresh cluster creates the cluster-wide app role, which must not race.
        """
        if not self.is_postgres:
            yield
            return
        import asyncpg

        assert self.base_url is not None
        connection = await asyncpg.connect(self.base_url)
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", _TEMPLATE_LOCK)
            yield
        finally:
            await connection.close()  # ends the session, which releases the lock

    async def drop(self, name: str | None) -> None:
        if name:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def drop_templates(self) -> None:
        if self.is_postgres:
            for name in self._templates.values():
                await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _admin(self, sql: str) -> None:
        import asyncpg

        assert self.base_url is not None
        connection = await asyncpg.connect(self.base_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


def apps_key(modules: Iterable[ModuleType], installed: bool) -> str:
    return ("installed;" if installed else "") + ",".join(sorted(m.__name__ for m in modules))

