"""Settlement (结算): periods, the revenue of completed work orders, the rebate and share
programmes, the ledger (台账) every amount is booked in, settlement runs and the statements
they produce.

Money is ``Numeric`` read back as ``Decimal``; every amount stored is already rounded to the
cent. Periods are named by month (``2026-10``); ``period`` on a row is where it is booked,
``origin_period`` the month its document belongs to (they differ for a carried-forward
correction: a document dated in a closed month).
"""

from decimal import Decimal

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Date, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ZERO = Decimal(0)
MONEY = (18, 4)
QUANTITY = (18, 4)


def tenant_id_in_other_indexes() -> Integer:
    """``tenant_id`` without an index of its own, for the tables a settlement run writes
    thousands of rows to: indexes of theirs begin with it (see the migrations), and each
    index more is one more write for every row."""
    return Integer(null=False, index=False)


class Period(TenantScoped, Table, tablename="settlement_period"):
    """A month to settle: open (documents are booked in it) or closed (locked)."""

    tenant_unique = (("code",),)
    code = Varchar(length=7)  # 2026-10
    starts_on = Date()
    ends_on = Date()  # the first day after it
    status = Varchar(length=8, default="open", index=True)  # open | closed
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Integer(null=True, default=None)
    reopened_at = Timestamptz(null=True, default=None)
    reopened_by = Integer(null=True, default=None)
    note = Text(default="")  # why it was last closed or reopened
    created_at = Timestamptz(default=TimestamptzNow())


class FeeSchedule(TenantScoped, Table, tablename="settlement_fee_schedule"):
    """How a completed work order of a type earns money (收费标准): its labour item priced at
    the region's rate for the hours a stage form recorded, the parts used priced at the
    partner's tier, fees, and subsidies paid to a party. ``work_order_type`` "" is the
    default for types without their own."""

    tenant_unique = (("work_order_type",),)
    work_order_type = Varchar(length=40)
    labour_item = Varchar(length=64, default="")
    hours_field = Varchar(length=63, default="labour_hours")
    price_parts = Boolean(default=True)
    fees = JSON(default=[])  # [{"key", "name", "item"} | {"key", "name", "amount"}]
    subsidies = JSON(default=[])  # [{"key", "name", "amount", "to", "region_codes"}]
    note = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class SplitRule(TenantScoped, Table, tablename="settlement_split_rule"):
    """A share of a work order's lines for a party (分成规则): e.g. 70% of labour and the
    whole call-out fee to the installer, 10% of parts to the dealer."""

    tenant_unique = (("code",),)
    code = Varchar(length=40)
    name = Varchar(length=100)
    component = Varchar(length=40)  # labour | parts | fee:<key> | fee
    role = Varchar(length=16)  # installer | dealer
    basis = Varchar(length=8, default="percent")  # percent | fixed
    value = Numeric(digits=MONEY)
    work_order_types = JSON(default=[])  # empty: every type
    region_codes = JSON(default=[])  # empty: everywhere
    partner_kinds = JSON(default=[])  # of the receiving party; empty: any
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Revenue(TenantScoped, Table, tablename="settlement_revenue"):
    """The revenue of a completed work order (工单收益), or an adjusting entry to it: never
    edited once written (``sequence`` 0 is the original, 1, 2, … its adjustments)."""

    tenant_unique = (("work_order_id", "sequence"),)
    work_order_id = Integer(index=True)
    work_order_number = Varchar(length=32, default="")
    work_order_type = Varchar(length=40, default="")
    sequence = Integer(default=0)
    kind = Varchar(length=12, default="original")  # original | adjustment
    status = Varchar(length=8, default="booked")  # booked | skipped | failed
    reason = Text(default="")  # an adjustment's reason, why it was skipped or failed
    period = Varchar(length=7, default="", index=True)
    origin_period = Varchar(length=7, default="")
    doc_date = Date(null=True, default=None)
    dealer_id = Integer(null=True, default=None, index=True)
    installer_id = Integer(null=True, default=None, index=True)
    region_code = Varchar(length=12, default="")
    currency = Varchar(length=3, default="CNY")
    total = Numeric(digits=MONEY, default=ZERO)
    cost = Numeric(digits=MONEY, default=ZERO)
    enterprise_amount = Numeric(digits=MONEY, default=ZERO)
    dealer_amount = Numeric(digits=MONEY, default=ZERO)
    installer_amount = Numeric(digits=MONEY, default=ZERO)
    facts = JSON(default={})  # the split's facts worth showing (region, tiers, …)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RevenueLine(TenantScoped, Table, tablename="settlement_revenue_line"):
    """A line of a work order's revenue with each party's share and how both were made."""

    revenue_id = Integer(index=True)
    line_no = Integer()
    key = Varchar(length=100)
    component = Varchar(length=40)  # labour | parts | fee | subsidy
    title = Varchar(length=200, default="")
    quantity = Numeric(digits=QUANTITY, default=ZERO)
    amount = Numeric(digits=MONEY, default=ZERO)
    cost = Numeric(digits=MONEY, null=True, default=None)
    enterprise_amount = Numeric(digits=MONEY, default=ZERO)
    dealer_amount = Numeric(digits=MONEY, default=ZERO)
    installer_amount = Numeric(digits=MONEY, default=ZERO)
    price_trace = JSON(default=[])
    split_trace = JSON(default=[])


class Entry(TenantScoped, Table, tablename="settlement_entry"):
    """One amount of the ledger (台账), booked in a period for a partner (``partner_id`` null:
    the enterprise's own), pointing at the document it comes from. ``amount`` is in the
    partner's favour (what the enterprise owes it) except for ``sales``, the partner's
    purchases at its tier prices, which are the basis of rebates and shares."""

    tenant_id = tenant_id_in_other_indexes()

    period = Varchar(length=7)
    origin_period = Varchar(length=7)
    partner_id = Integer(null=True, default=None)
    role = Varchar(length=16)  # partner | dealer | installer | enterprise
    kind = Varchar(length=20)  # sales | service_fees | work_order_shares | subsidies | …
    amount = Numeric(digits=MONEY, default=ZERO)
    tax = Numeric(digits=MONEY, default=ZERO)
    quantity = Numeric(digits=QUANTITY, default=ZERO)
    cost = Numeric(digits=MONEY, default=ZERO)
    source_type = Varchar(length=20)  # order | work_order | adjustment | programme
    source_id = Integer()
    source_ref = Varchar(length=64, default="")  # the document's number
    source_line = Varchar(length=64, default="")
    item = Varchar(length=64, default="")
    category = Varchar(length=64, default="")
    region_code = Varchar(length=12, default="")
    doc_date = Date()
    run_id = Integer(null=True, default=None)  # set on the entries a settlement run wrote
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Programme(TenantScoped, Table, tablename="settlement_programme"):
    """A rebate or share policy (返利/分成政策) for the partners in its scope: a ladder rebate
    (阶梯返利, whole volume at the reached rate or each band at its own rate) or an
    order-volume share (按订单量分成)."""

    tenant_unique = (("code",),)
    code = Varchar(length=40)
    name = Varchar(length=100)
    kind = Varchar(length=16)  # ladder_rebate | volume_share
    mode = Varchar(length=8, default="whole")  # whole | banded (ladder rebates)
    metric = Varchar(length=8, default="quantity")  # quantity | amount
    unit = Varchar(length=16, default="")  # 箱, shown with quantities
    bands = JSON(default=[])  # [{"min": "0", "max": "1000", "rate": "0"}, …]
    share_pct = Numeric(digits=MONEY, null=True, default=None)  # volume shares
    per_order = Numeric(digits=MONEY, null=True, default=None)  # volume shares
    categories = JSON(default=[])  # counted lines; empty (with items): every line
    items = JSON(default=[])
    region_codes = JSON(default=[])
    partner_kinds = JSON(default=[])
    partner_levels = JSON(default=[])
    partner_codes = JSON(default=[])
    valid_from = Varchar(length=7, default="")  # first period, "" open
    valid_to = Varchar(length=7, default="")  # last period, "" open
    enabled = Boolean(default=True)
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Target(TenantScoped, Table, tablename="settlement_target"):
    """A period's target volume for a partner, or for every partner of a region."""

    tenant_unique = (("period", "scope", "metric"),)
    period = Varchar(length=7)
    scope = Varchar(length=40)  # partner:<id> | region:<code>
    partner_id = Integer(null=True, default=None)
    region_code = Varchar(length=12, default="")
    metric = Varchar(length=8, default="quantity")
    value = Numeric(digits=QUANTITY)
    note = Text(default="")


class Run(TenantScoped, Table, tablename="settlement_run"):
    """A settlement run of a period: its progress while it works and what it produced."""

    period = Varchar(length=7, index=True)
    status = Varchar(length=10, default="running")  # running | completed | failed
    progress = Integer(default=0)  # 0..100
    stage = Varchar(length=100, default="")
    last_entry_id = Integer(default=0)  # the newest booked entry it saw
    statements = Integer(default=0)
    totals = JSON(default={})
    error = Text(default="")
    started_by = Integer(null=True, default=None)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class Statement(TenantScoped, Table, tablename="settlement_statement"):
    """A partner's statement (结算单) of a period: draft → confirmed | disputed → paid."""

    tenant_id = tenant_id_in_other_indexes()

    tenant_unique = (("period", "partner_id"), ("number",))
    number = Varchar(length=32)
    period = Varchar(length=7)
    partner_id = Integer(index=True)
    status = Varchar(length=10, default="draft")
    currency = Varchar(length=3, default="CNY")
    sales = Numeric(digits=MONEY, default=ZERO)
    payable = Numeric(digits=MONEY, default=ZERO)
    run_id = Integer(null=True, default=None)
    revision = Integer(default=0)
    dispute_comment = Text(default="")
    confirmed_at = Timestamptz(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    paid_ref = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StatementLine(TenantScoped, Table, tablename="settlement_statement_line"):
    """A line of a statement: the sum of the ledger entries of one kind booked in the period
    for the partner (carried-forward corrections on lines of their own)."""

    tenant_id = tenant_id_in_other_indexes()

    statement_id = Integer()  # indexed with tenant_id (settlement_statement_line_statement)
    line_no = Integer()
    kind = Varchar(length=20)
    carried = Boolean(default=False)
    amount = Numeric(digits=MONEY, default=ZERO)
    quantity = Numeric(digits=QUANTITY, default=ZERO)
    entries = Integer(default=0)
    detail = JSON(default={})  # e.g. a rebate's volume, band and rate


class StatementEvent(TenantScoped, Table, tablename="settlement_statement_event"):
    """What happened to a statement, by whom: recomputed, confirmed, disputed, paid."""

    statement_id = Integer(index=True)
    action = Varchar(length=16)
    from_status = Varchar(length=10, default="")
    to_status = Varchar(length=10, default="")
    actor_id = Integer(null=True, default=None)
    comment = Text(default="")
    at = Timestamptz(default=TimestamptzNow())


class ImportBatch(TenantScoped, Table, tablename="settlement_import"):
    """Partner sales imported from the system used before Jimu (期初导入): each row became a
    ``sales`` entry (``source_type`` "import", ``source_id`` this batch, ``source_ref`` the
    old document's number), so rebates of a period begun before go-live count them."""

    label = Varchar(length=100)
    rows = Integer(default=0)
    quantity = Numeric(digits=QUANTITY, default=ZERO)
    amount = Numeric(digits=MONEY, default=ZERO)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [Period, FeeSchedule, SplitRule, Revenue, RevenueLine, Entry, Programme, Target, Run,
          Statement, StatementLine, StatementEvent, ImportBatch]
