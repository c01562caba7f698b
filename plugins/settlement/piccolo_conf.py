"""Piccolo's configuration for development only (it is not part of the wheel).

After changing ``jimu_settlement/tables.py``, run from this directory::

    PICCOLO_CONF=piccolo_conf piccolo migrations new settlement --auto
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.sqlite import SQLiteEngine

DB = SQLiteEngine(path="piccolo-dev.sqlite3")

APP_REGISTRY = AppRegistry(apps=["jimu.db.piccolo_app", "jimu_settlement.piccolo_app"])
