"""Throughput of a tenant-scoped list endpoint: the real Jimu app vs a bare litestar+asyncpg one.

    .venv/bin/python benchmarks/api_list.py                 # ~1 minute (first run: + data load)
    .venv/bin/python benchmarks/api_list.py --rebuild       # drop and rebuild jimu_bench

PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth). A dedicated database ``jimu_bench`` is
migrated by the kernel and holds 100,000 customers over 10 tenants (the target tenant has 40%).
Both apps run under uvicorn (1 worker each, same pool size) on 127.0.0.1 and answer

    GET /api/v1/customers?level=gold&sort=-created_at&per_page=50   (Jimu, API token)
    GET /customers?level=gold&sort=-created_at&per_page=50          (bare, same two SQL statements)

Jimu is started the way it is deployed, ``jimu serve --no-migrate`` (JSON log line per request,
in-process worker and scheduler); the bare app by ``uvicorn bare_list_app:app``.

A bounded asyncio HTTP/1.1 keep-alive client drives each at the same concurrency, alternating
rounds between the two apps. Prints requests/s, p50 and p99 for both and the throughput ratio;
exits 1 when Jimu's throughput is under half the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _common import Verdicts, median, percentile, spread, table  # noqa: E402

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "jimu_bench"
BENCH_URL = f"{SERVER}/{DATABASE}"
CUSTOMERS = 100_000
TENANTS = 10
TARGET_SHARE = 0.4
LEVELS = (("regular", 0.45), ("silver", 0.30), ("gold", 0.15), ("platinum", 0.10))
QUERY = "level=gold&sort=-created_at&per_page=50"
RATIO_TARGET = 0.5
PASSWORD = "correct-horse-battery"


# ================================================================================== database


async def admin_execute(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def prepare_database(rebuild: bool) -> dict[str, Any]:
    """Create/migrate ``jimu_bench``, load the data if missing; return tenant id and a token."""
    import asyncpg
    from jimu.kernel import Kernel
    from jimu.services.auth import new_api_token, token_digest
    from jimu.services.tenants import create_tenant
    from jimu.settings import Settings

    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                           DATABASE)
    finally:
        await connection.close()
    if exists and rebuild:
        await admin_execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        exists = False
    if not exists:
        await admin_execute(f'CREATE DATABASE "{DATABASE}"')

    started = time.perf_counter()
    # The same plugins as the served app (installed entry points), so the same migrations.
    kernel = Kernel(Settings(database_url=BENCH_URL, run_worker_in_process=False,
                             run_scheduler_in_process=False))
    kernel.load_plugins()
    await kernel.db.migrate()
    plugins = sorted(kernel.plugins.plugins)

    db = await asyncpg.connect(BENCH_URL)  # as postgres: superuser, not bound by RLS
    try:
        slugs = [f"bench-t{i}" for i in range(TENANTS)]
        found = {r["slug"]: r["id"] for r in await db.fetch(
            "SELECT slug, id FROM core_tenant WHERE slug = ANY($1)", slugs)}
        for slug in slugs:
            if slug not in found:
                async with kernel.tenant_scope(None):
                    row = await create_tenant(kernel, slug=slug, name=f"基准租户 {slug}",
                                              admin_username=f"{slug}-admin",
                                              admin_password=PASSWORD, plugins=plugins)
                found[slug] = row["id"]
        ids = [found[s] for s in slugs]
        target = ids[0]
        count = await db.fetchval("SELECT count(*) FROM core_customer WHERE tenant_id = ANY($1)",
                                  ids)
        if count != CUSTOMERS:
            await db.execute("DELETE FROM core_customer WHERE tenant_id = ANY($1)", ids)
            await db.copy_records_to_table(
                "core_customer", records=customer_records(ids, target),
                columns=["tenant_id", "name", "phone", "email", "level", "partner_id",
                         "region_code", "tags", "created_at", "updated_at"])
            await db.execute("ANALYZE core_customer")
            print(f"   loaded {CUSTOMERS:,} customers with COPY")
        admin_id = await db.fetchval("SELECT id FROM core_user WHERE username = $1",
                                     f"{slugs[0]}-admin")
        secret = new_api_token()
        await db.execute("DELETE FROM core_api_token WHERE tenant_id = $1 AND name = 'bench'",
                         target)
        await db.execute(
            "INSERT INTO core_api_token (tenant_id, name, prefix, token_hash, scopes, "
            "created_by, created_at) VALUES ($1, 'bench', $2, $3, $4, $5, now())",
            target, secret[:12], token_digest(secret), '["customers.read"]', admin_id)
        gold = await db.fetchval(
            "SELECT count(*) FROM core_customer WHERE tenant_id = $1 AND level = 'gold'", target)
        target_rows = await db.fetchval(
            "SELECT count(*) FROM core_customer WHERE tenant_id = $1", target)
    finally:
        await db.close()
        await kernel.db.close()
    print(f"   database {DATABASE} ready in {time.perf_counter() - started:.1f} s: "
          f"{CUSTOMERS:,} customers in {TENANTS} tenants; target tenant {target} has "
          f"{target_rows:,}, {gold:,} of them gold; plugins: {', '.join(plugins) or 'none'}")
    return {"tenant": target, "token": secret, "gold": gold}


def customer_records(tenant_ids: list[int], target: int) -> list[tuple[Any, ...]]:
    rng = random.Random(42)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    levels = [name for name, _ in LEVELS]
    weights = [w for _, w in LEVELS]
    others = [t for t in tenant_ids if t != target]
    per_target = int(CUSTOMERS * TARGET_SHARE)
    records = []
    for n in range(CUSTOMERS):
        tenant = target if n < per_target else others[n % len(others)]
        created = now - dt.timedelta(seconds=rng.randint(0, 730 * 86400))
        records.append((tenant, f"客户 {n}", f"+86138{n:08d}", f"c{n}@example.com",
                        rng.choices(levels, weights)[0], None, "", "[]", created, created))
    return records


# ================================================================================== servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(name: str, port: int) -> list[str]:
    if name == "jimu":  # as operators run it (docs/operations.md); uvicorn, one worker
        return [sys.executable, "-m", "jimu.cli", "serve", "--no-migrate", "--host", "127.0.0.1",
                "--port", str(port)]
    return [sys.executable, "-m", "uvicorn", "bare_list_app:app", "--app-dir", str(HERE),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log",
            "--log-level", "warning"]


def start_server(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ================================================================================== load


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}


async def http_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("chunked responses are not supported by this client")
    body = await reader.readexactly(length or 0)
    return status, body


def build_request(path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def load(port: int, request: bytes, concurrency: int, seconds: float,
               max_requests: int) -> tuple[Stats, float]:
    """``concurrency`` keep-alive connections, each sending its next request on an answer."""
    stats = Stats()
    budget = [max_requests]
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                started = time.perf_counter()
                try:
                    status, _ = await http_get(reader, writer, request)
                except (asyncio.IncompleteReadError, ConnectionError):
                    stats.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                stats.latencies.append(time.perf_counter() - started)
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return stats, time.perf_counter() - started


async def wait_ready(port: int, path: str, process: subprocess.Popen[bytes], log: Path,
                     timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited:\n{log.read_text()[-3000:]}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, _ = await http_get(reader, writer, build_request(path, port, {}))
            writer.close()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"server on {port} not ready:\n{log.read_text()[-3000:]}")


async def fetch_json(port: int, request: bytes) -> Any:
    import json

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status, body = await http_get(reader, writer, request)
    finally:
        writer.close()
    if status != 200:
        raise RuntimeError(f"GET on port {port} answered {status}: {body[:500]!r}")
    return json.loads(body)


# ================================================================================== main


async def run(args: argparse.Namespace) -> int:
    verdicts = Verdicts()
    print(f"api_list: {CUSTOMERS:,} customers, {TENANTS} tenants, concurrency "
          f"{args.concurrency}, {args.rounds} rounds × {args.seconds:g} s per app, alternating")
    setup = await prepare_database(args.rebuild)
    logs = Path(tempfile.mkdtemp(prefix="jimu-bench-"))
    auth = {"Authorization": f"Bearer {setup['token']}"}
    # name: (environment, request path, headers)
    apps: dict[str, tuple[dict[str, str], str, dict[str, str]]] = {
        "bare": ({"BENCH_DSN": BENCH_URL, "BENCH_TENANT": str(setup["tenant"])},
                 f"/customers?{QUERY}", {}),
        "jimu": ({"DATABASE_URL": BENCH_URL}, f"/api/v1/customers?{QUERY}", auth),
    }
    servers: dict[str, subprocess.Popen[bytes]] = {}
    requests: dict[str, tuple[int, bytes]] = {}
    results: dict[str, list[tuple[float, Stats]]] = {name: [] for name in apps}
    ratios: list[float] = []
    try:
        for name, (env, path, headers) in apps.items():
            port = free_port()
            servers[name] = start_server(server_command(name, port), env, logs / f"{name}.log")
            requests[name] = (port, build_request(path, port, headers))
        for name, (port, _) in requests.items():
            await wait_ready(port, "/health", servers[name], logs / f"{name}.log")
        answers = {name: await fetch_json(port, req) for name, (port, req) in requests.items()}
        for name, answer in answers.items():
            assert answer["items"] == answers["bare"]["items"], name
            assert answer["total"] == setup["gold"], (name, answer["total"])
        assert len(answers["bare"]["items"]) == 50
        print(f"   {', '.join(apps)} answer the same 50 customers and total {setup['gold']:,}")

        for port, req in requests.values():  # warm-up
            await load(port, req, args.concurrency, args.warmup, 10**9)
        for r in range(args.rounds):
            order = list(apps)
            random.Random(r).shuffle(order)
            got = {}
            for name in order:
                port, req = requests[name]
                stats, elapsed = await load(port, req, args.concurrency, args.seconds,
                                            args.max_requests)
                bad = sum(v for k, v in stats.statuses.items() if k != 200) + stats.errors
                if bad:
                    raise RuntimeError(f"{name}: {bad} failed requests {stats.statuses}")
                got[name] = len(stats.latencies) / elapsed
                results[name].append((got[name], stats))
            ratios.append(got["jimu"] / got["bare"])
            print(f"   round {r + 1}: " + ", ".join(
                f"{name} {got[name]:.0f} req/s" for name in apps))
    finally:
        for process in servers.values():
            stop_server(process)

    rows = []
    summary = {}
    for name in apps:
        rps = [r for r, _ in results[name]]
        lat = [x for _, s in results[name] for x in s.latencies]
        summary[name] = (median(rps), percentile(lat, 0.5) * 1e3, percentile(lat, 0.99) * 1e3)
        rows.append([name, f"{median(rps):.0f}", spread(rps), f"{summary[name][1]:.1f}",
                     f"{summary[name][2]:.1f}", f"{len(lat):,}",
                     f"{median(ratios):.2f}" if name == "jimu" else "1"])
    print(table(["app", "req/s (median)", "req/s min–max", "p50 ms", "p99 ms", "requests",
                 "ratio to bare"], rows))
    ratio = median(ratios)
    print(f"   throughput ratio jimu/bare: {ratio:.2f} (per round {spread(ratios)}); "
          f"p50 latency ratio {summary['jimu'][1] / summary['bare'][1]:.2f}, p99 "
          f"{summary['jimu'][2] / summary['bare'][2]:.2f}")
    print(f"   server logs: {logs}")
    verdicts.check("api_list throughput ratio jimu/bare", f"{ratio:.2f} "
                   f"({summary['jimu'][0]:.0f}/{summary['bare'][0]:.0f} req/s)",
                   f"≥ {RATIO_TARGET}", ratio >= RATIO_TARGET)
    verdicts.print()
    return verdicts.exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--max-requests", type=int, default=100_000,
                        help="per app and round, whatever the time")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild jimu_bench")
    args = parser.parse_args()
    started = time.perf_counter()
    code = asyncio.run(run(args))
    print(f"({time.perf_counter() - started:.0f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
