"""Unique codes per tenant, one revenue document per (work order, sequence), one booking per
source line, and the indexes the settlement run and the ledger views read by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk import drop_index_sql, unique_index_sql

ID = "2026-11-24T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "settlement unique rules and ledger indexes"

UNIQUE = (("settlement_period", ("code",)),
          ("settlement_fee_schedule", ("work_order_type",)),
          ("settlement_split_rule", ("code",)),
          ("settlement_revenue", ("work_order_id", "sequence")),
          ("settlement_entry", ("source_type", "source_id", "source_line", "role", "period")),
          ("settlement_programme", ("code",)),
          ("settlement_target", ("period", "scope", "metric")),
          ("settlement_statement", ("period", "partner_id")),
          ("settlement_statement", ("number",)))
INDEXES = {
    "settlement_entry_period": "settlement_entry (tenant_id, period, partner_id, kind)",
    "settlement_entry_source": "settlement_entry (tenant_id, source_type, source_id)",
    "settlement_entry_date": "settlement_entry (tenant_id, doc_date)",
}


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="settlement", description=DESCRIPTION)
    for table, columns in UNIQUE:
        manager.add_raw(_ddl(unique_index_sql(table, *columns)))
        manager.add_raw_backwards(_ddl(drop_index_sql(table, *columns)))
    for name, target in INDEXES.items():
        manager.add_raw(_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}"))
        manager.add_raw_backwards(_ddl(f"DROP INDEX IF EXISTS {name}"))
    return manager
