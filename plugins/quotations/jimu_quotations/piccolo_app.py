import os

from piccolo.conf.apps import AppConfig

from jimu_quotations.tables import Order, OrderLine, Quotation, QuotationLine

APP_CONFIG = AppConfig(
    app_name="quotations",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Quotation, QuotationLine, Order, OrderLine],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
