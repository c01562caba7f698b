"""``jimu plugins run settlement run --tenant <code> --period 2026-10 [--close]``: a settlement
run from the command line, with its progress bar, for month-end scripts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jimu_sdk import CliCommand, CliOption, Conflict, Progress, platform

from jimu_settlement import periods, runs


async def run_period(options: Mapping[str, Any], progress: Progress) -> str:
    period = periods.check_code(str(options["period"]))
    async with platform().transaction():
        run = await runs.start(period)
    progress(1, "queued")
    done = await runs.execute(run["id"], report=progress)
    if done["status"] != "completed":
        raise Conflict(f"settlement run {done['id']} of {period} failed: {done['error']}")
    line = (f"settlement run {done['id']} of {period}: {done['statements']} statement(s), "
            f"payable {done['totals'].get('payable', '0')}")
    if options.get("close"):
        async with platform().transaction():
            await periods.close_period(period, note=f"closed by settlement run {done['id']}")
        line += f"; {period} closed"
    return line


COMMANDS = [CliCommand(
    name="run", help="Run the settlement of a month (and --close it when it completes)",
    run=run_period,
    options=(CliOption(name="period", help="the month, e.g. 2026-10", required=True),
             CliOption(name="close", help="close the month when the run completes",
                       flag=True)))]
