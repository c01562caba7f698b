"""Tenant walls in the data layer: tenant_id everywhere, unique rules with it, PostgreSQL RLS."""

import os

import asyncpg
import pytest
from jimu.db.engine import APP_ROLE
from jimu.db.tables import Customer
from jimu_sdk.tables import is_tenant_table

# Row-level security is PostgreSQL's; CI runs this file again with JIMU_TEST_DATABASE_URL set.
on_postgres = pytest.mark.skipif(not os.environ.get("JIMU_TEST_DATABASE_URL"),
                                 reason="row-level security exists on PostgreSQL only")


async def indexes(db, table, *, unique: bool):
    """Column lists of the indexes (not the primary key) of ``table``: its unique ones, or
    all of them."""
    name = table._meta.tablename
    if db.is_postgres:
        rows = await table.raw(
            "SELECT array_agg(a.attname ORDER BY k.n) AS cols FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
            "WHERE c.relname = {} AND (i.indisunique OR NOT {}) AND NOT i.indisprimary "
            "GROUP BY i.indexrelid", name, unique)
        return [list(r["cols"]) for r in rows]
    found = []
    for index in await table.raw(f"PRAGMA index_list('{name}')"):
        if (index["unique"] or not unique) and index["origin"] != "pk":
            cols = await table.raw(f"PRAGMA index_info('{index['name']}')")
            found.append([c["name"] for c in sorted(cols, key=lambda c: c["seqno"])])
    return found


async def test_every_tenant_table_has_tenant_id_in_each_unique_rule(jimu_platform):
    db = jimu_platform.kernel.db
    tenant_tables = db.tenant_tables()
    assert {t._meta.tablename for t in tenant_tables} >= {
        "core_customer", "core_partner", "core_role", "core_plugin_config", "core_audit",
        "followups_note"}
    async with db.transaction():
        for table in tenant_tables:
            # An index of its own, or one that begins with it (a table written in bulk keeps
            # its indexes few).
            assert table.tenant_id._meta.index or any(
                columns[0] == "tenant_id" for columns in await indexes(db, table, unique=False)
            ), f"{table._meta.tablename}.tenant_id unindexed"
            for columns in await indexes(db, table, unique=True):
                assert "tenant_id" in columns, (
                    f"unique rule {columns} of {table._meta.tablename} lacks tenant_id")
    for table in db.tables:
        if is_tenant_table(table):
            assert not [c for c in table._meta.columns if c._meta.unique], (
                f"{table._meta.tablename} has a column-level unique rule")


@pytest.fixture
async def two_tenants_with_customers(jimu_platform):
    a = await jimu_platform.make_tenant()
    b = await jimu_platform.make_tenant()
    for tenant, name in ((a, "甲客户"), (b, "乙客户")):
        async with jimu_platform.as_tenant(tenant):
            await Customer.scoped_insert(name=name)
    return a, b


@on_postgres
async def test_rls_hides_other_tenants_even_when_code_forgets_the_filter(
        jimu_platform, two_tenants_with_customers):
    db = jimu_platform.kernel.db
    a, b = two_tenants_with_customers
    async with db.transaction(tenant_id=a.id):
        assert [r["name"] for r in await Customer.select(Customer.name)] == ["甲客户"]
    async with db.transaction(tenant_id=None):
        assert await Customer.select() == []
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with db.transaction(tenant_id=a.id):
            await Customer.insert(Customer(name="越界", tenant_id=b.id))


@on_postgres
async def test_app_role_sees_nothing_outside_a_tenant_and_owns_no_table(
        jimu_platform, two_tenants_with_customers):
    db = jimu_platform.kernel.db
    config = dict(db.engine.config, user=APP_ROLE)
    connection = await asyncpg.connect(**config)
    try:
        assert await connection.fetch("SELECT * FROM core_customer") == []
        owned = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE tableowner = $1", APP_ROLE)
        assert owned == []
        role = await connection.fetchrow(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", APP_ROLE)
        assert (role["rolsuper"], role["rolbypassrls"]) == (False, False)
    finally:
        await connection.close()


async def test_migrations_run_backwards_and_forwards_again(jimu_platform):
    db = jimu_platform.kernel.db
    await db.migrate(backwards=True)
    async with db.transaction():
        assert not await Customer.table_exists()
    apps = await db.migrate()
    assert apps[0] == "jimu_core"
    assert set(apps) == {"jimu_core", *(
        slug for slug, plugin in jimu_platform.kernel.plugins.plugins.items()
        if plugin.contributions.get("register_piccolo_app"))}  # a plugin may have no tables
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    async with jimu_platform.as_tenant(tenant):
        assert await Customer.scoped_count() == 0
