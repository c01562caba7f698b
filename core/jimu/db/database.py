"""The platform's database: binds every table to one engine, migrates, and guards tenants."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from jimu_sdk.tables import is_tenant_table
from piccolo.conf.apps import AppConfig, AppRegistry
from piccolo.engine.base import Engine
from piccolo.table import Table

from jimu.db import piccolo_conf
from jimu.db.engine import (
    APP_ROLE,
    LoopLocalPostgresEngine,
    engine_from_url,
    is_postgres,
    set_tenant,
    transaction,
)

CORE_APP = "jimu.db.piccolo_app"


class MigrationFailed(RuntimeError):
    pass


class Database:
    """One engine for the whole platform; each piccolo app's tables are bound to it."""

    def __init__(self, url: str | None, app_modules: Sequence[str] = (), *,
                 admin_url: str | None = None, pool_size: int = 10) -> None:
        self.url = url
        self.engine: Engine = engine_from_url(url, pool_size=pool_size)
        self.admin_url = admin_url or url
        self.registry = AppRegistry(apps=[CORE_APP, *app_modules])
        self.tables: list[type[Table]] = [
            table for config in self.registry.app_configs.values()
            for table in config.table_classes
        ]
        self._bind(self.engine)

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    @property
    def app_configs(self) -> dict[str, AppConfig]:
        return self.registry.app_configs

    def tenant_tables(self) -> list[type[Table]]:
        return [t for t in self.tables if is_tenant_table(t)]

    def _bind(self, engine: Engine) -> None:
        from piccolo.apps.migrations.tables import Migration

        # piccolo's own bookkeeping table would otherwise keep the first engine it saw.
        tables: list[type[Table]] = [*self.tables, Migration]
        for table in tables:
            table._meta.db = engine
        # piccolo's migration runner finds the engine and apps through piccolo_conf.
        piccolo_conf.DB = engine  # type: ignore[attr-defined]
        piccolo_conf.APP_REGISTRY = self.registry  # type: ignore[attr-defined]

    def activate(self) -> None:
        """Re-bind tables to this database (tests run several platforms in one process)."""
        self._bind(self.engine)

    async def close(self) -> None:
        if isinstance(self.engine, LoopLocalPostgresEngine):
            await self.engine.close_pool()
            self.engine.terminate_pools()

    async def close_loop_pool(self) -> None:
        """Close the running loop's pool (the worker calls this on its own loop)."""
        if isinstance(self.engine, LoopLocalPostgresEngine):
            await self.engine.close_pool()

    # ------------------------------------------------------------------ transactions

    @asynccontextmanager
    async def transaction(self, *, tenant_id: int | None = None,
                          write: bool = True) -> AsyncIterator[Any]:
        async with transaction(self.engine, write=write, tenant_id=tenant_id) as tx:
            yield tx

    async def set_tenant(self, tenant_id: int | None) -> None:
        await set_tenant(self.engine, tenant_id)

    async def ping(self) -> None:
        await self.engine.run_ddl("SELECT 1")

    # ------------------------------------------------------------------ migrations

    async def migrate(self, *, backwards: bool = False,
                      progress: Callable[[str], None] | None = None) -> list[str]:
        """Run every app's migrations forwards (or all of them backwards); return app names."""
        from piccolo.apps.migrations.commands.backwards import run_backwards
        from piccolo.apps.migrations.commands.forwards import run_forwards

        admin_engine = engine_from_url(self.admin_url) if self.admin_url != self.url else None
        if admin_engine is not None:
            self._bind(admin_engine)
        try:
            if not backwards and self.is_postgres:
                await self._ensure_app_role(admin_engine or self.engine)
            names = self.app_names(backwards=backwards)
            for name in names:
                if progress:
                    progress(name)
                with contextlib.redirect_stdout(io.StringIO()) as out:
                    if backwards:
                        result = await run_backwards(app_name=name, migration_id="all",
                                                     auto_agree=True)
                    else:
                        result = await run_forwards(app_name=name, migration_id="all")
                if not result.success:
                    raise MigrationFailed(
                        f"migrations of {name} failed: {result.message}\n{out.getvalue()}"
                    )
            if not backwards and self.is_postgres:
                await self._apply_row_level_security(admin_engine or self.engine)
            return names
        finally:
            if admin_engine is not None:
                self._bind(self.engine)

    def app_names(self, *, backwards: bool = False) -> list[str]:
        """Piccolo apps in migration order (dependencies first), or reversed."""
        from piccolo.apps.migrations.commands.base import BaseMigrationManager

        # piccolo's migration runner finds apps and engine through this module.
        os.environ["PICCOLO_CONF"] = "jimu.db.piccolo_conf"
        names = BaseMigrationManager().get_sorted_app_names()
        return names[::-1] if backwards else names

    async def _ensure_app_role(self, engine: Engine) -> None:
        await engine.run_ddl(
            f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS;
                END IF;
            END $$"""
        )

    async def _apply_row_level_security(self, engine: Engine) -> None:
        """Grant the app role data access only, and fence tenant tables with fail-closed RLS."""
        tenant_expr = "NULLIF(current_setting('app.tenant_id', true), '')::int"
        statements = [
            f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
            f"DO $$ BEGIN EXECUTE format('GRANT {APP_ROLE} TO %I', current_user); END $$",
        ]
        for table in self.tenant_tables():
            name = table._meta.tablename
            statements += [
                f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
                f"DROP POLICY IF EXISTS tenant_isolation ON {name}",
                f"CREATE POLICY tenant_isolation ON {name} USING (tenant_id = {tenant_expr}) "
                f"WITH CHECK (tenant_id = {tenant_expr})",
            ]
        for sql in statements:
            await engine.run_ddl(sql)

    async def prepare_sqlite(self) -> None:
        """WAL lets readers run beside the one writer; it persists in the file."""
        if not self.is_postgres:
            await self.engine.run_ddl("PRAGMA journal_mode=WAL")
