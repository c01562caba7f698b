import os

from piccolo.conf.apps import AppConfig

from jimu_price_lists.tables import Item, PriceList, PriceListEntry, PriceRule

APP_CONFIG = AppConfig(
    app_name="price_lists",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Item, PriceList, PriceListEntry, PriceRule],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
