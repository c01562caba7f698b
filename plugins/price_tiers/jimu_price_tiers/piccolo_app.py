import os

from piccolo.conf.apps import AppConfig

from jimu_price_tiers.tables import Assignment, RuleSet, Tier, Volume

APP_CONFIG = AppConfig(
    app_name="price_tiers",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Tier, RuleSet, Volume, Assignment],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
