"""Pricing a 100-line quotation with five pricing plugins on and 10,000 price rules.

    .venv/bin/python benchmarks/quotation_pricing.py            # ~10 s on SQLite
    .venv/bin/python benchmarks/quotation_pricing.py --rounds 50

Setup (not timed): a fresh SQLite database, one tenant with price_lists, regional_pricing,
price_tiers, price_factors and projects enabled; 1,000 items in 20 categories and 10,000 rules
(per item: a base price, a price per partner level and per tier, a South China discount for
level-1 dealers, a North China price, quantity breaks for the online channel, and a rule not
yet valid; plus category and all-items rules); the South China zone at +5%; a level-1 dealer in
Guangzhou on tier B; a 3% promotion on two categories and 13% VAT.

a. **Pipeline**: ``platform().price(100 lines)`` inside a request-like tenant transaction,
   caches warm (as for every quotation after the first): core's facts, each plugin's
   ``pricing_facts``, base prices, the fold with its trace, rounding.
b. **Floor**: a plain hand-written function doing the same rule selection (every candidate
   filtered by validity, region, level, tier, channel and quantity break; the winner by
   specificity, priority, newest, code) and the same arithmetic (rule, +5%, promotion, VAT,
   rounding) on the same data already in memory, and giving the same kind of answer (each
   line's total and its explanation: rule, reason, amount before and after) — no hooks, no
   plugin boundaries, no database.

Target: a ≤ 1.5 × b. Both are medians over interleaved rounds; the two must give the same
totals (checked). Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET = 1.5
ITEMS = 1_000
CATEGORIES = 20
LINES = 100
PLUGINS = ["price_lists", "regional_pricing", "price_tiers", "price_factors", "projects",
           "parts"]
ON_DATE = dt.date(2026, 11, 20)
REGION_PATH = ("440000", "440100", "440106")
ZONES = ("HN",)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass
class PlainRule:
    code: str
    scope: str
    sku: str
    category: str
    kind: str
    value: Decimal | None
    breaks: list[tuple[Decimal, Decimal | None, Decimal]]
    regions: tuple[str, ...]
    levels: tuple[str, ...]
    tiers: tuple[str, ...]
    channels: tuple[str, ...]
    priority: int
    valid_from: dt.date | None


def rule_rows(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items, rules = [], []
    for n in range(ITEMS):
        sku = f"SKU-{n:04d}"
        price = Decimal(rng.randrange(1_000, 90_000)) / 100
        items.append({"sku": sku, "name": f"商品 {n}", "unit": "件", "kind": "product",
                      "category": f"C{n % CATEGORIES:02d}", "list_price": price,
                      "cost": (price * Decimal("0.7")).quantize(CENT), "currency": "CNY",
                      "tax_rate": Decimal("0.13"), "active": True})

        def fixed(code: str, factor: str, sku: str = sku, price: Decimal = price,
                  **conditions: Any) -> dict[str, Any]:
            return {"code": f"{sku}-{code}", "scope": "item", "sku": sku, "kind": "fixed",
                    "value": (price * Decimal(factor)).quantize(CENT), **conditions}

        online = [{"min_qty": "0", "max_qty": "50",
                   "value": str((price * Decimal("0.9")).quantize(CENT))},
                  {"min_qty": "50", "max_qty": None,
                   "value": str((price * Decimal("0.85")).quantize(CENT))}]

        rules += [
            fixed("BASE", "0.98"),
            fixed("GA", "0.80", partner_levels=["general_agent"]),
            fixed("L1", "0.85", partner_levels=["level1"]),
            fixed("L2", "0.90", partner_levels=["level2"]),
            fixed("TA", "0.82", partner_tiers=["A"]),
            fixed("TB", "0.86", partner_tiers=["B"], priority=1),
            {"code": f"{sku}-HN", "scope": "item", "sku": sku, "kind": "discount",
             "value": Decimal("4"), "regions": ["440000"], "partner_levels": ["level1"]},
            fixed("HB", "0.95", regions=["110000"]),
            {"code": f"{sku}-ONL", "scope": "item", "sku": sku, "kind": "fixed",
             "channels": ["online"], "breaks": online},
            fixed("NEXT", "0.70", partner_levels=["level1"], valid_from=dt.date(2027, 1, 1)),
        ]
    for c in range(CATEGORIES):
        rules.append({"code": f"CAT-{c:02d}", "scope": "category", "category": f"C{c:02d}",
                      "kind": "discount", "value": Decimal("2"), "partner_levels": ["level2"]})
    rules.append({"code": "ALL-GA", "scope": "all", "kind": "discount", "value": Decimal("1"),
                  "partner_levels": ["general_agent"]})
    return items, rules


# ===================================================================================== floor


def plain_rules(rows: list[dict[str, Any]]) -> tuple[dict[str, list[PlainRule]],
                                                      dict[str, list[PlainRule]],
                                                      list[PlainRule]]:
    by_sku: dict[str, list[PlainRule]] = {}
    by_category: dict[str, list[PlainRule]] = {}
    every: list[PlainRule] = []
    for r in rows:
        rule = PlainRule(
            code=r["code"], scope=r["scope"], sku=r.get("sku", ""),
            category=r.get("category", ""), kind=r["kind"], value=r.get("value"),
            breaks=[(Decimal(b["min_qty"]), None if b["max_qty"] is None else
                     Decimal(b["max_qty"]), Decimal(b["value"])) for b in r.get("breaks", [])],
            regions=tuple(r.get("regions", ())), levels=tuple(r.get("partner_levels", ())),
            tiers=tuple(r.get("partner_tiers", ())), channels=tuple(r.get("channels", ())),
            priority=r.get("priority", 0), valid_from=r.get("valid_from"))
        if rule.scope == "item":
            by_sku.setdefault(rule.sku, []).append(rule)
        elif rule.scope == "category":
            by_category.setdefault(rule.category, []).append(rule)
        else:
            every.append(rule)
    return by_sku, by_category, every


SCOPE = {"item": 2, "category": 1, "all": 0}
DEPTH = {"440000": 1, "440100": 2, "440106": 3, "110000": 1}


def plain_price(lines: list[tuple[str, Decimal]], items: dict[str, dict[str, Any]],
                rules: tuple[dict[str, list[PlainRule]], dict[str, list[PlainRule]],
                             list[PlainRule]],
                facts: dict[str, Any]) -> list[Decimal]:
    by_sku, by_category, every = rules
    level, tier, channel = facts["level"], facts["tier"], facts["channel"]
    places = set(REGION_PATH) | set(ZONES)
    totals: list[Decimal] = []
    traces: list[list[tuple[str, str, str, Decimal, Decimal]]] = []
    for sku, quantity in lines:
        item = items[sku]
        best: tuple[Any, ...] | None = None
        winner: PlainRule | None = None
        winner_value: Decimal | None = None
        for rule in [*by_sku.get(sku, ()), *by_category.get(item["category"], ()), *every]:
            if rule.valid_from is not None and rule.valid_from > ON_DATE:
                continue
            if rule.regions and not places.intersection(rule.regions):
                continue
            if rule.levels and level not in rule.levels:
                continue
            if rule.tiers and tier not in rule.tiers:
                continue
            if rule.channels and channel not in rule.channels:
                continue
            value = rule.value
            if rule.breaks:
                value = next((v for low, high, v in rule.breaks
                              if low <= quantity and (high is None or quantity < high)), None)
                if value is None:
                    continue
            conditions = sum(1 for c in (rule.regions, rule.levels, rule.tiers,
                                         rule.channels) if c)
            depth = max((DEPTH.get(code, 0) for code in rule.regions if code in places),
                        default=0)
            key = (SCOPE[rule.scope], conditions, depth, rule.priority,
                   rule.valid_from.toordinal() if rule.valid_from else -1)
            if best is None or key > best or (key == best and winner is not None
                                               and rule.code < winner.code):
                best, winner, winner_value = key, rule, value
        # The answer explains itself, as the pipeline's does: each change with its rule,
        # reason, and the amounts before and after.
        total = item["list_price"] * quantity
        trace = [("price_lists", "list-price", f"list price {item['list_price']} × {quantity}",
                  ZERO, total)]
        if winner is not None and winner_value is not None:
            before = total
            if winner.kind == "fixed":
                total = winner_value * quantity
                reason = f"{winner.code}: fixed {winner_value}"
            else:
                total = total * (1 - winner_value / HUNDRED)
                reason = f"{winner.code}: {winner_value}% off"
            trace.append(("price_lists", winner.code, reason, before, total))
        before, total = total, total * Decimal("1.05")
        trace.append(("regional_pricing", "regional-adjustment", "华南 +5%", before, total))
        if item["category"] in ("C01", "C02"):
            before, total = total, total * (1 - Decimal(3) / HUNDRED)
            trace.append(("price_factors", "PROMO", "促销 −3%", before, total))
        # VAT, its amount rounded to the cent (the tax factor's policy)
        before = total
        total = total + (total * Decimal(13) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        trace.append(("price_factors", "VAT", "增值税 13%", before, total))
        rounded = total.quantize(CENT, rounding=ROUND_HALF_UP)
        if rounded != total:
            trace.append(("core", "rounding", "rounded", total, rounded))
        traces.append(trace)
        totals.append(rounded)
    return totals


# ================================================================================== pipeline


async def build(workdir: Path) -> tuple[Any, int, int, list[dict[str, Any]],
                                        list[dict[str, Any]]]:
    from httpx import ASGITransport, AsyncClient
    from jimu.app import create_app
    from jimu.kernel import Kernel
    from jimu.services.tenants import create_tenant
    from jimu.settings import Settings
    from jimu_price_lists.tables import Item, PriceRule
    from jimu_sdk import platform

    kernel = Kernel(Settings(database_url=f"sqlite:///{workdir / 'pricing.sqlite3'}",
                             run_worker_in_process=False, run_scheduler_in_process=False))
    kernel.load_plugins()
    await kernel.db.migrate()
    kernel.db.activate()
    async with kernel.tenant_scope(None):
        tenant = await create_tenant(kernel, slug="bench", name="基准企业",
                                     admin_username="bench-admin",
                                     admin_password="bench-password", plugins=PLUGINS)
    tenant_id = tenant["id"]
    items, rules = rule_rows(random.Random(7))
    async with kernel.tenant_scope(tenant_id):
        for start in range(0, len(items), 500):
            await Item.insert(*[Item(tenant_id=tenant_id, **row)
                                for row in items[start:start + 500]])
        for start in range(0, len(rules), 500):
            await PriceRule.insert(*[PriceRule(tenant_id=tenant_id, name=row["code"], **row)
                                     for row in rules[start:start + 500]])
        await platform().invalidate("price_lists.snapshot")
    app = create_app(kernel)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as http:
        ok = (await http.post("/api/v1/auth/login", json={
            "username": "bench-admin", "password": "bench-password"})).status_code
        assert ok == 200, ok
        http.headers["X-CSRF-Token"] = (await http.get("/api/v1/auth/me")).json()["csrf_token"]

        async def call(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = await http.request(method, path, json=body)
            assert answer.status_code in (200, 201), (path, answer.text)
            return answer.json()

        partner = await call("POST", "/api/v1/partners", {
            "code": "GZ-L1", "name": "广州一级代理", "level": "level1", "region_code": "440106"})
        await call("POST", "/api/v1/regional_pricing/zones", {
            "code": "HN", "name": "华南", "kind": "group",
            "region_codes": ["440000", "450000", "460000"]})
        await call("POST", "/api/v1/regional_pricing/parameters", {
            "target": "HN", "price_adjust_pct": "5"})
        for code, rank in (("A", 1), ("B", 2), ("C", 3)):
            await call("POST", "/api/v1/price_tiers/tiers", {"code": code, "name": f"{code}档",
                                                            "rank": rank})
        await call("POST", "/api/v1/price_tiers/assignments", {"partner_id": partner["id"],
                                                               "tier": "B"})
        await call("POST", "/api/v1/price_factors/factors", {
            "code": "PROMO", "name": "双品类促销", "kind": "promotion",
            "params": {"percent_off": "3", "categories": ["C01", "C02"]}})
        await call("POST", "/api/v1/price_factors/factors", {
            "code": "VAT", "name": "增值税", "kind": "tax", "params": {"rate_percent": "13"}})
    return kernel, tenant_id, partner["id"], items, rules


async def run(rounds: int) -> int:
    from jimu_sdk import PriceContext, platform

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        kernel, tenant_id, partner_id, items, rule_data = await build(Path(tmp))
        rng = random.Random(11)
        lines = [(f"SKU-{rng.randrange(ITEMS):04d}", Decimal(rng.choice((1, 5, 20, 60, 120))))
                 for _ in range(LINES)]
        contexts = [PriceContext(tenant_id=tenant_id, item=sku, quantity=qty,
                                 partner_id=partner_id, channel="store", on_date=ON_DATE)
                    for sku, qty in lines]
        item_map = {row["sku"]: row for row in items}
        plain = plain_rules(rule_data)
        facts = {"level": "level1", "tier": "B", "channel": "store"}

        async def pipeline_once() -> tuple[float, list[Decimal]]:
            async with kernel.tenant_scope(tenant_id, write=False):
                started = time.perf_counter()
                results = await platform().price(contexts)
                elapsed = time.perf_counter() - started
            return elapsed, [r.total.amount for r in results]

        def floor_once() -> tuple[float, list[Decimal]]:
            started = time.perf_counter()
            totals = plain_price(lines, item_map, plain, facts)
            return time.perf_counter() - started, totals

        _, first = await pipeline_once()  # fills the caches, as the first quotation does
        _, expected = floor_once()
        mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(first, expected, strict=True))
                      if a != b]
        if mismatches:
            import os
            if os.environ.get("BENCH_DEBUG"):
                async with kernel.tenant_scope(tenant_id, write=False):
                    [r] = await platform().price([contexts[mismatches[0][0]]])
                for t in r.trace:
                    print(t.plugin, t.rule, t.reason, t.before, t.after)
            print(f"the pipeline and the floor disagree on {len(mismatches)} lines, "
                  f"e.g. line {mismatches[0][0]}: {mismatches[0][1]} vs {mismatches[0][2]}")
            return 1
        pipeline_times, floor_times = [], []
        for _ in range(rounds):
            pipeline_times.append((await pipeline_once())[0])
            floor_times.append(floor_once()[0])
        await kernel.stop()
    pipe = statistics.median(pipeline_times) * 1000
    floor = statistics.median(floor_times) * 1000
    ratio = pipe / floor
    print(f"100-line quotation, {len(rule_data):,} rules, {len(PLUGINS) - 1} pricing plugins "
          f"+ parts, SQLite, {rounds} rounds (median)")
    print(f"  a. pipeline (platform().price)   {pipe:8.2f} ms")
    print(f"  b. plain function (floor)        {floor:8.2f} ms")
    print(f"  ratio a/b                        {ratio:8.2f}   target ≤ {TARGET}")
    verdict = ratio <= TARGET
    print("PASS" if verdict else "MISS")
    return 0 if verdict else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.rounds)))


if __name__ == "__main__":
    main()
