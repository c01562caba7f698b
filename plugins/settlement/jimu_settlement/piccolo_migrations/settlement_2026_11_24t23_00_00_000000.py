"""Fewer indexes on the tables a settlement run writes thousands of rows to: their
``tenant_id`` loses the index of its own (others begin with it), a statement's lines are
found by (tenant, statement), and the ledger's (tenant, source) index goes: its unique rule
(tenant, source type, source, line, role, period) begins with the same columns. On
PostgreSQL a statement's page keeps room for its next version: a run again of the period
rewrites every statement of it, and with room on the page (and no indexed column changed)
the new version needs no new index entries (a HOT update)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer

ID = "2026-11-24T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "settlement: fewer indexes to write"

UNINDEXED = (("Entry", "settlement_entry", "tenant_id"),
             ("Statement", "settlement_statement", "tenant_id"),
             ("StatementLine", "settlement_statement_line", "tenant_id"),
             ("StatementLine", "settlement_statement_line", "statement_id"))
RAW = (("CREATE INDEX IF NOT EXISTS settlement_statement_line_statement ON "
        "settlement_statement_line (tenant_id, statement_id)",
        "DROP INDEX IF EXISTS settlement_statement_line_statement"),
       ("DROP INDEX IF EXISTS settlement_entry_source",
        "CREATE INDEX IF NOT EXISTS settlement_entry_source ON settlement_entry "
        "(tenant_id, source_type, source_id)"))


def _ddl(sql, *, postgres_only=False):
    async def run():
        from piccolo.engine.finder import engine_finder

        engine = engine_finder()
        if not postgres_only or engine.engine_type == "postgres":
            await engine.run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="settlement", description=DESCRIPTION
    )

    for class_name, tablename, column in UNINDEXED:
        manager.alter_column(
            table_class_name=class_name, tablename=tablename, column_name=column,
            db_column_name=column, params={"index": False}, old_params={"index": True},
            column_class=Integer, old_column_class=Integer, schema=None)
    for forward, backward in RAW:
        manager.add_raw(_ddl(forward))
        manager.add_raw_backwards(_ddl(backward))
    manager.add_raw(_ddl("ALTER TABLE settlement_statement SET (fillfactor = 70)",
                         postgres_only=True))
    manager.add_raw_backwards(_ddl("ALTER TABLE settlement_statement RESET (fillfactor)",
                                   postgres_only=True))
    return manager
