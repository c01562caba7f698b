from jimu_sdk import TenantScoped
from piccolo.columns import Integer, Varchar
from piccolo.table import Table


class LedgerEntry(TenantScoped, Table, tablename="ledger_entry"):
    kind = Varchar(length=50)
    ref = Integer(default=0)
