from piccolo.columns import Integer, Varchar
from piccolo.table import Table

from jimu_sdk import TenantScoped


class LedgerEntry(TenantScoped, Table, tablename="ledger_entry"):
    kind = Varchar(length=50)
    ref = Integer(default=0)
