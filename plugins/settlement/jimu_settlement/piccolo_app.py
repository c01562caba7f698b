import os

from piccolo.conf.apps import AppConfig

from jimu_settlement.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="settlement",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
