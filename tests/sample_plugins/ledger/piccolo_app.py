import os

from piccolo.conf.apps import AppConfig

from tests.sample_plugins.ledger.tables import LedgerEntry

APP_CONFIG = AppConfig(
    app_name="ledger",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[LedgerEntry],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
