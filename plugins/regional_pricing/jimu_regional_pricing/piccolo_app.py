import os

from piccolo.conf.apps import AppConfig

from jimu_regional_pricing.tables import Parameter, StoreLocation, Zone

APP_CONFIG = AppConfig(
    app_name="regional_pricing",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Zone, Parameter, StoreLocation],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
