"""Production shape: separate `jimu worker` processes and a `jimu scheduler` on a real broker.

Runs when JIMU_TEST_BROKER_URL names a Redis broker (CI's PostgreSQL + Redis stage). The web
side here never relays its own events, so the scheduler process must, and the workers must
handle them.
"""

import asyncio
import os
import subprocess
import sys
import time

import pytest
from jimu_followups.tables import FollowUp

BROKER = os.environ.get("JIMU_TEST_BROKER_URL", "")
pytestmark = pytest.mark.skipif(not BROKER.startswith("redis://"),
                                reason="needs a real broker (JIMU_TEST_BROKER_URL=redis://…)")


def start(command, settings):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "BROKER_URL": BROKER,
           "JIMU_BROKER_NAMESPACE": settings.broker_namespace, "JIMU_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "jimu.cli", *command], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


async def test_workers_and_scheduler_in_their_own_processes(jimu_platform_factory):
    platform = await jimu_platform_factory(settings={"run_worker_in_process": False})
    platform.kernel.jobs.nudge_relay = lambda: None
    tenant = await platform.make_tenant(plugins=["followups"])
    admin = await platform.login(tenant.admin_username)
    customers = []
    for name in ("甲", "乙", "丙"):
        customer = (await admin.post("/api/v1/customers", json={"name": name})).json()["id"]
        await admin.post("/api/v1/followups/notes", json={"customer_id": customer,
                                                          "body": "跟进"})
        customers.append(customer)
    processes = [start(["worker", "--threads", "2"], platform.kernel.settings),
                 start(["worker", "--threads", "2"], platform.kernel.settings),
                 start(["scheduler"], platform.kernel.settings)]
    try:
        for customer in customers:
            assert (await admin.delete(f"/api/v1/customers/{customer}")).status_code == 204
        deadline = time.monotonic() + 60
        remaining = None
        while time.monotonic() < deadline:
            async with platform.as_tenant(tenant):
                remaining = await FollowUp.scoped_count()
            if remaining == 0:
                break
            await asyncio.sleep(0.1)  # other processes are doing the work; poll the result
        assert remaining == 0, "the worker processes did not handle customer.deleted"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            output, _ = process.communicate(timeout=30)
            assert process.returncode in (0, -15), output
