"""Counts events exactly once, runs a job on a timer and a nightly schedule, and has a CLI
command counting its entries."""

from jimu_sdk import (
    CliCommand,
    CliOption,
    Conflict,
    EventHandler,
    Job,
    PluginMeta,
    Schedule,
    hookimpl,
    localized,
    platform,
)

from tests.sample_plugins.ledger.tables import LedgerEntry

meta = PluginMeta(name="ledger", version="1.0.0", title=localized("记账", "Ledger"),
                  description=localized("事件计数", "Counts events"), author="tests",
                  requires_core=">=1.0")

FAIL_TIMES = {"count": 0}
"""Handler failures still to inject before it succeeds (tests set it)."""


async def count_customer(event):
    if FAIL_TIMES["count"] > 0:
        FAIL_TIMES["count"] -= 1
        raise ConnectionError("downstream unavailable")
    await LedgerEntry.scoped_insert(kind="customer.created", ref=event.payload["id"])


async def check_customer(event):
    """In the creating transaction: refuse a blocked name, record the check otherwise."""
    if event.payload.get("name") == "黑名单客户":
        raise Conflict("this customer is on the ledger's block list", field="name")
    await LedgerEntry.scoped_insert(kind="customer.checked", ref=event.payload["id"])


async def tick(tenant_id, ref=0):
    await LedgerEntry.scoped_insert(kind="job", ref=ref)


async def steps(tenant_id, fail_at=0):
    """A ``transaction=False`` job: each step commits on its own; ``fail_at`` raises there."""
    for step in (1, 2, 3):
        if step == fail_at:
            raise RuntimeError(f"step {step} failed")
        async with platform().transaction():
            await LedgerEntry.scoped_insert(kind="step", ref=step)


async def nightly(tenant_id):
    await LedgerEntry.scoped_insert(kind="nightly", ref=0)


@hookimpl
def register_piccolo_app():
    return "tests.sample_plugins.ledger.piccolo_app"


@hookimpl
def register_event_handlers():
    return [EventHandler(event_type="customer.created", name="count", handle=count_customer,
                         max_retries=5),
            EventHandler(event_type="customer.created", name="check", handle=check_customer,
                         in_transaction=True)]


@hookimpl
def register_jobs():
    return [Job(name="tick", run=tick), Job(name="nightly", run=nightly),
            Job(name="steps", run=steps, transaction=False)]


async def count_entries(options, progress):
    """A CLI command: counts the tenant's entries of a kind, reporting as it goes."""
    progress(10, "counting")
    async with platform().transaction(write=False):
        total = await LedgerEntry.scoped_count().where(LedgerEntry.kind == options["kind"])
    progress(100, "counted")
    return f"{total} {options['kind']} entries" + (" (verbose)" if options.get("verbose") else "")


@hookimpl
def register_cli_commands():
    return [CliCommand(name="count", help="Count the ledger's entries of a kind",
                       run=count_entries,
                       options=(CliOption(name="kind", help="entry kind", required=True),
                                CliOption(name="verbose", help="say more", flag=True)))]


@hookimpl
def register_schedules():
    return [Schedule(name="nightly", cron="0 2 * * *", job="nightly")]


async def schedule_tick(when, ref):
    return await platform().schedule_at(when, "ledger.tick", {"ref": ref}, key=f"tick:{ref}")
