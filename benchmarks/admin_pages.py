"""Admin web UI: page weight of the tenant home and server time of every admin page.

    .venv/bin/python benchmarks/admin_pages.py              # ~20 s
    .venv/bin/python benchmarks/admin_pages.py --rounds 15

A fresh SQLite database is migrated and seeded with the demo tenant (``jimu.demo.ensure_demo``,
every installed plugin on); the app is ``create_app(kernel)`` called in-process through
``httpx.ASGITransport`` with ``Accept-Encoding: gzip``, as a browser sends it.

a. Page weight of ``/admin/`` signed in as ``demo-admin``: the HTML plus every
   ``<script src>``, ``<link rel=stylesheet>`` and the favicon it names, as transferred
   (gzip as served, response bodies only). Target: under 500 KB (500,000 bytes).
b. Server time of every admin page: each GET route under ``/admin`` or ``/operator`` that is not
   in the OpenAPI schema, path parameters filled from the demo data. ``/admin`` pages are
   fetched as ``demo-admin``, ``/operator`` pages as the platform operator. Each figure is the
   median over interleaved rounds after a warm-up, with ``GET /health`` in the same rounds as
   the floor. Target: every page under 100 ms.

Prints the figures and ratios; exits 1 when a target is missed. Runs on SQLite; no server.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Verdicts, median, percentile, spread, table

WEIGHT_TARGET_BYTES = 500_000
SERVER_TARGET_MS = 100.0
PASSWORD = "correct-horse-battery"
HOME = "/admin/"
FLOOR = "/health"
WARMUP_ROUNDS = 3
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


# ================================================================================== the app


async def build(workdir: Path) -> tuple[Any, Any, dict[str, str]]:
    """A kernel and app on a fresh SQLite file with the demo tenant; returns the path values."""
    from jimu.app import create_app
    from jimu.db.tables import AuditEntry, Customer, Partner, Role, Tenant, User
    from jimu.demo import DEMO_SLUG, LOGINS, ensure_demo
    from jimu.kernel import Kernel
    from jimu.services.industry_templates import load_templates
    from jimu.settings import Settings, catalog_blocked

    kernel = Kernel(Settings(database_url=f"sqlite:///{workdir / 'admin.sqlite3'}",
                             run_worker_in_process=False, run_scheduler_in_process=False,
                             block_plugins=catalog_blocked()))
    kernel.load_plugins()
    started = time.perf_counter()
    await kernel.db.migrate()
    kernel.db.activate()
    await ensure_demo(kernel, PASSWORD)
    async with kernel.tenant_scope(None):
        tenant = await Tenant.select(Tenant.id).where(Tenant.slug == DEMO_SLUG).first()
        admin = await User.select(User.id).where(
            User.username == LOGINS["tenant admin"]).first()
    async with kernel.tenant_scope(tenant["id"], write=False):
        customer = await Customer.scoped_select(Customer.id).order_by(Customer.id).first()
        partner = await Partner.scoped_select(Partner.id).order_by(Partner.id).first()
        role = await Role.scoped_select(Role.id).order_by(Role.id).first()
        entry = await AuditEntry.scoped_select(AuditEntry.id).order_by(AuditEntry.id).first()
    print(f"   demo tenant seeded on SQLite in {time.perf_counter() - started:.1f} s; plugins: "
          f"{', '.join(sorted(kernel.plugins.plugins)) or 'none'}")
    # One real value per path parameter name; a bare ``id`` is named by the segment before it.
    values = {"tenant_id": str(tenant["id"]), "user_id": str(admin["id"])}
    if customer:
        values["customer_id"] = str(customer["id"])
    if partner:
        values["partner_id"] = str(partner["id"])
    if role:
        values["role_id"] = str(role["id"])
    if entry:
        values["audit/entry_id"] = values["audit/id"] = str(entry["id"])
    if kernel.plugins.plugins:
        values["slug"] = values["plugin"] = sorted(kernel.plugins.plugins)[0]
    if templates := sorted(load_templates()):
        values["key"] = values["template"] = templates[0]
    for segment, name in (("tenants", "tenant_id"), ("users", "user_id"), ("roles", "role_id"),
                          ("customers", "customer_id"), ("partners", "partner_id")):
        if name in values:
            values[f"{segment}/id"] = values[name]
    return kernel, create_app(kernel), values


def admin_pages(app: Any, values: dict[str, str]) -> tuple[list[str], list[str]]:
    """Concrete URLs of the admin pages, and notes on the routes that had to be skipped."""
    pages: list[str] = []
    notes: list[str] = []
    for route in app.routes:
        path = route.path
        if not path.startswith(("/admin", "/operator")) or "/api/" in path:
            continue
        for handler in getattr(route, "route_handlers", []):
            if "GET" not in handler.http_methods or handler.resolve_include_in_schema():
                continue

            def fill(match: re.Match[str], path: str = path) -> str:
                name = match.group(1)
                before = path[:match.start()].rstrip("/").rsplit("/", 1)[-1]
                value = values.get(name) or values.get(f"{before}/{name}")
                if value is None:
                    raise KeyError(name)
                return value

            try:
                url = PARAM.sub(fill, path)
            except KeyError as missing:
                notes.append(f"skipped {path}: no demo value for {{{missing.args[0]}}}")
                continue
            pages.append(HOME if url == HOME.rstrip("/") else url)
    return sorted(set(pages)), notes


async def signed_in(timed: Any, username: str) -> Any:
    import httpx

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=timed),
                               base_url="http://bench", headers={"Accept-Encoding": "gzip"})
    response = await client.post("/api/v1/auth/login", json={"username": username,
                                                             "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


# ================================================================================== a. weight


class Assets(HTMLParser):
    """What a browser fetches on first load: scripts, stylesheets and the favicon."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.icon = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        rel = (attributes.get("rel") or "").lower().split()
        if tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"] or "")
        elif tag == "link" and attributes.get("href") and (
                "stylesheet" in rel or "icon" in rel or "modulepreload" in rel):
            self.urls.append(attributes["href"] or "")
            self.icon = self.icon or "icon" in rel


@dataclass
class Transfer:
    url: str
    status: int
    content_type: str
    encoding: str
    transferred: int
    decoded: int


async def fetch_raw(client: Any, url: str) -> Transfer:
    async with client.stream("GET", url) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    encoding = response.headers.get("content-encoding", "")
    decoded = len(gzip.decompress(raw)) if encoding == "gzip" else len(raw)
    return Transfer(url, response.status_code,
                    response.headers.get("content-type", "").split(";")[0], encoding or "-",
                    len(raw), decoded)


async def bench_weight(verdicts: Verdicts, client: Any) -> None:
    print(f"\na. page weight of {HOME} (first load, signed in as demo-admin, "
          "Accept-Encoding: gzip)")
    home = await fetch_raw(client, HOME)
    assert home.status == 200, f"{HOME} answered {home.status}"
    html = (await client.get(HOME)).text
    parser = Assets()
    parser.feed(html)
    urls = list(dict.fromkeys(parser.urls))
    if not parser.icon:
        urls.append("/favicon.ico")  # what a browser asks for when the page names no icon
    transfers = [home]
    for url in urls:
        if urlsplit(url).netloc and urlsplit(url).netloc != "bench":
            print(f"   note: {url} is not served by the app; not counted")
            continue
        transfers.append(await fetch_raw(client, urljoin("http://bench" + HOME, url)))
    counted = [t for t in transfers if t.status == 200]
    for t in transfers:
        if t.status != 200:
            print(f"   note: {t.url} answered {t.status}; not counted")
    total = sum(t.transferred for t in counted)
    print(table(["resource", "type", "encoding", "bytes decoded", "bytes transferred"], [
        *[[urlsplit(t.url).path, t.content_type, t.encoding, f"{t.decoded:,}",
           f"{t.transferred:,}"] for t in counted],
        ["total", "", "", f"{sum(t.decoded for t in counted):,}", f"{total:,}"]]))
    print("   response bodies only (headers not counted); charts on the page: "
          f"{'yes' if 'echarts' in html else 'no'}")
    verdicts.check(f"a. page weight of {HOME}", f"{total / 1000:.1f} KB",
                   f"< {WEIGHT_TARGET_BYTES // 1000} KB", total < WEIGHT_TARGET_BYTES)


# ================================================================================== b. time


async def bench_server_time(verdicts: Verdicts, clients: dict[str, Any], notes: list[str],
                            server_ns: list[int], rounds: int) -> None:
    pages = [url for url in clients if url != FLOOR]
    print(f"\nb. server time of {len(pages)} admin pages (whole ASGI app in-process), "
          f"{rounds} interleaved rounds after {WARMUP_ROUNDS} warm-up; floor: GET {FLOOR}")
    for note in notes:
        print(f"   note: {note}")
    failed: dict[str, int] = {}
    samples: dict[str, list[float]] = {url: [] for url in clients}
    rng = random.Random(11)
    order = list(clients)
    for round_ in range(WARMUP_ROUNDS + rounds):
        rng.shuffle(order)
        for url in order:
            if url in failed:
                continue
            server_ns.clear()
            response = await clients[url].get(url)
            if response.status_code != 200:
                failed[url] = response.status_code
                continue
            if round_ >= WARMUP_ROUNDS:
                samples[url].append(server_ns[-1] / 1e6)

    floor = median(samples[FLOOR])
    rows = [[f"GET {FLOOR} (floor)", "200", f"{floor:.2f}",
             f"{percentile(samples[FLOOR], 0.9):.2f}", spread(samples[FLOOR]), "1.0×", "-"]]
    for url in pages:
        if url in failed:
            rows.append([f"GET {url}", str(failed[url]), "-", "-", "-", "-", "FAIL"])
            verdicts.check(f"b. GET {url}", f"answered {failed[url]}", "200", False)
            continue
        figure = median(samples[url])
        ok = figure < SERVER_TARGET_MS
        rows.append([f"GET {url}", "200", f"{figure:.2f}", f"{percentile(samples[url], 0.9):.2f}",
                     spread(samples[url]), f"{figure / floor:.1f}×", "PASS" if ok else "FAIL"])
        verdicts.check(f"b. GET {url}", f"{figure:.1f} ms ({figure / floor:.1f}× floor)",
                       f"< {SERVER_TARGET_MS:.0f} ms", ok)
    print(table(["page", "status", "median ms", "p90 ms", "min–max ms", "ratio to floor",
                 f"< {SERVER_TARGET_MS:.0f} ms"], rows))


async def run(rounds: int) -> Verdicts:
    from jimu.demo import LOGINS

    verdicts = Verdicts()
    with tempfile.TemporaryDirectory(prefix="jimu-bench-") as tmp:
        kernel, app, values = await build(Path(tmp))
        server_ns: list[int] = []

        async def timed(scope: Any, receive: Any, send: Any) -> None:
            started = time.perf_counter_ns()
            try:
                await app(scope, receive, send)
            finally:
                server_ns.append(time.perf_counter_ns() - started)

        await kernel.start(worker=False, scheduler=False)
        admin = await signed_in(timed, LOGINS["tenant admin"])
        operator = await signed_in(timed, LOGINS["platform operator"])
        try:
            await bench_weight(verdicts, admin)
            pages, notes = admin_pages(app, values)
            if not any(url.startswith("/operator") for url in pages):
                notes.append("no /operator pages are registered; only /admin pages measured")
            clients = {url: operator if url.startswith("/operator") else admin
                       for url in pages}
            await bench_server_time(verdicts, {FLOOR: admin, **clients}, notes, server_ns,
                                    rounds)
        finally:
            await admin.aclose()
            await operator.aclose()
            await kernel.stop()
            await kernel.db.close()
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30,
                        help="timed rounds over every page (default 30)")
    args = parser.parse_args()
    os.environ.setdefault("JIMU_LOG_LEVEL", "WARNING")
    # ``jimu serve`` writes an INFO line per request (jimu.http); none is written here.
    for name in ("jimu.http", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started = time.perf_counter()
    print(f"admin pages: Python {sys.version.split()[0]}, SQLite, demo tenant")
    verdicts = asyncio.run(run(args.rounds))
    verdicts.print()
    print(f"({time.perf_counter() - started:.0f} s)")
    return verdicts.exit_code


if __name__ == "__main__":
    sys.exit(main())
