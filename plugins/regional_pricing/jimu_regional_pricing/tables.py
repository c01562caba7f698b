"""Regional pricing tables: zones, price parameters per region or zone, store locations."""

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Date, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Zone(TenantScoped, Table, tablename="regional_pricing_zone"):
    """A sales region: a group of national region codes, or a geofence polygon."""

    tenant_unique = (("code",),)
    code = Varchar(length=32)
    name = Varchar(length=100)
    kind = Varchar(length=16, default="group")  # group | geofence
    region_codes = JSON(default=[])  # group: ["110000", ...]
    polygon = JSON(default=[])  # geofence: [["120.62", "31.25"], ...] as decimal strings
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Parameter(TenantScoped, Table, tablename="regional_pricing_parameter"):
    """Price parameters of one target: a national region code or a zone code.

    A value left empty (NULL) is inherited from the less specific targets.
    """

    target = Varchar(length=32, index=True)
    target_kind = Varchar(length=16, default="region")  # region | zone
    price_adjust_pct = Numeric(digits=(9, 4), null=True, default=None)
    labour_rate = Numeric(digits=(18, 4), null=True, default=None)
    currency = Varchar(length=3, default="CNY")
    valid_from = Date(null=True, default=None)
    valid_to = Date(null=True, default=None)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StoreLocation(TenantScoped, Table, tablename="regional_pricing_store_location"):
    """Where a partner (a store, a service provider) is, for geofence zones."""

    tenant_unique = (("partner_id",),)
    partner_id = Integer(index=True)
    lng = Numeric(digits=(10, 6))
    lat = Numeric(digits=(10, 6))
    note = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())
