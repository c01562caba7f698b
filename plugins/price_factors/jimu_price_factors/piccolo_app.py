import os

from piccolo.conf.apps import AppConfig

from jimu_price_factors.tables import Factor

APP_CONFIG = AppConfig(
    app_name="price_factors",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Factor],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
