"""Properties of settlement that must always hold (issue 7, correctness), for random orders and
imports of dealers in North and South China, random sequences of period moves and random
ladders:

- a statement line is the sum of the ledger entries it lists, and a statement's payable the sum
  of its payable lines, to the cent;
- the ledger's sales are exactly the documents booked (completed orders and imported rows), in
  the period the document's date says, or the next open one when that month was closed;
- running a period again (and again) gives the same statements and never counts twice;
- a period closes and reopens only with one audit record each, and a refused move changes
  neither the period nor the audit log;
- a ladder rebate that validation accepts never decreases when volume increases.

Each database example uses a tenant of its own, so examples never see each other's ledger."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from jimu_sdk import ValidationFailed
from jimu_settlement import programmes
from settlement_support import (
    API,
    NORTH_LADDER,
    PLUGINS,
    SOUTH_SHARE,
    at,
    complete_order,
    ok,
    run_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = at(2026, 11, 5)  # every generated document lies in the past: imports refuse the future
DEALERS = (  # (code, name, region, level): two in North China, one in South China
    ("HB-ZD", "华北总代", "110105", "general_agent"),
    ("HB-TJ", "天津津南一级代理", "120112", "level1"),
    ("HN-GZ", "华南总代·广州粤通", "440106", "general_agent"),
)
ITEMS = (("TEA-500", "饮料"), ("CUP", "器具"))  # the ladder counts 饮料 only
# Every example against the platform costs real time: few examples, no deadline.
DB_EXAMPLES = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                             HealthCheck.too_slow])
REFS = itertools.count(1)

quantities = st.decimals(min_value=D("0.01"), max_value=D("2500"), places=2)
amounts = st.decimals(min_value=D("0"), max_value=D("250000"), places=2)
order_lines = st.lists(st.tuples(st.sampled_from(range(len(ITEMS))), quantities, amounts),
                       min_size=1, max_size=3)


def document(source, partner, when, lines, phase="before") -> dict[str, Any]:
    """A completed order or an imported row (one line): which dealer, when (Shanghai time),
    its lines (item index, quantity, amount), and whether it is booked before or after the
    earlier month is closed."""
    return {"source": source, "partner": partner, "when": when.replace(tzinfo=SHANGHAI),
            "lines": lines, "phase": phase}


@st.composite
def documents(draw, months=(10,), phases=("before",)):
    month = draw(st.sampled_from(months))
    day = draw(st.integers(1, 30 if month == 9 else 31))
    # Midnight and the last minutes of a month in Shanghai are another day in UTC.
    hour, minute = draw(st.sampled_from([(0, 0), (0, 30), (7, 59), (8, 0), (12, 0), (23, 59)]))
    source = draw(st.sampled_from(["order", "import"]))
    lines = draw(order_lines if source == "order" else order_lines.map(lambda x: x[:1]))
    return document(source, draw(st.integers(0, len(DEALERS) - 1)),
                    dt.datetime(2026, month, day, hour, minute), lines,
                    draw(st.sampled_from(phases)))


# Always tried: September documents booked before and after September closes, across the
# midnights that are another day in UTC.
AROUND_A_CLOSE = [
    document("order", 0, dt.datetime(2026, 9, 30, 23, 59),
             [(0, D("1200"), D("81600.00")), (1, D("3.5"), D("35.35"))]),
    document("import", 2, dt.datetime(2026, 9, 15), [(0, D("40"), D("3200.00"))], "after"),
    document("order", 1, dt.datetime(2026, 9, 1), [(0, D("4000.25"), D("0.01"))], "after"),
    document("order", 0, dt.datetime(2026, 10, 1), [(0, D("2"), D("136.00"))], "after"),
    document("import", 0, dt.datetime(2026, 10, 31, 23, 59), [(0, D("0.01"), D("0"))]),
]


async def tenant_with_dealers(jimu_platform, *, share: dict[str, Any] | None = None):
    """A fresh tenant: the dealers, the items, North China's ladder and South China's share."""
    from jimu_price_lists import public as items

    jimu_platform.clock.freeze(NOW)
    tenant = await jimu_platform.make_tenant(plugins=PLUGINS)
    admin = await jimu_platform.login(tenant.admin_username)
    ids = []
    for code, name, region, level in DEALERS:
        made = await ok(await admin.post("/api/v1/partners", json={
            "code": code, "name": name, "kind": "dealer", "level": level,
            "region_code": region}), 201)
        ids.append(made["id"])
    async with jimu_platform.as_tenant(tenant):
        for sku, category in ITEMS:
            await items.upsert_item(sku=sku, name=sku, kind="product", unit="箱",
                                    category=category, list_price=D("80"), cost=D("50"))
    await ok(await admin.post(f"{API}/programmes", json=NORTH_LADDER), 201)
    await ok(await admin.post(f"{API}/programmes", json=share or SOUTH_SHARE), 201)
    return tenant, admin, ids


async def book(jimu_platform, tenant, admin, ids, docs) -> list[dict[str, Any]]:
    """Book ``docs`` (orders one by one, imported rows as one batch); returns each sales line
    booked: partner, reference, amount, quantity and the month of its date."""
    booked, rows = [], []
    for doc in docs:
        partner_id = ids[doc["partner"]]
        lines = [(ITEMS[i][0], ITEMS[i][1], q, a) for i, q, a in doc["lines"]]
        if doc["source"] == "order":
            payload = await complete_order(jimu_platform, tenant, partner_id, lines,
                                           doc["when"].astimezone(dt.UTC))
            ref = payload["order_no"]
        else:
            ref = f"ERP-{next(REFS):06d}"
            [(item, _, quantity, amount)] = lines
            rows.append({"partner": DEALERS[doc["partner"]][0],
                         "date": doc["when"].date().isoformat(), "ref": ref, "item": item,
                         "quantity": str(quantity), "amount": str(amount)})
        origin = f"{doc['when']:%Y-%m}"
        booked += [{"partner_id": partner_id, "ref": ref, "amount": a, "quantity": q,
                    "origin": origin, "source": doc["source"]} for _, _, q, a in lines]
    if rows:
        await ok(await admin.post(f"{API}/imports", json={"label": "旧系统进货", "rows": rows}),
                 201)
    return booked


async def all_pages(client, url, params=None, per_page=200) -> list[dict[str, Any]]:
    """Every item of a paged listing, page by page; checks the pages add up to its total."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await ok(await client.get(url, params={**(params or {}), "page": page,
                                                        "per_page": per_page}))
        found += answer["items"]
        if not answer["items"] or len(found) >= answer["total"]:
            assert len(found) == answer["total"], (url, params)
            return found
        page += 1


async def statements_of(admin, period) -> list[dict[str, Any]]:
    listed = await ok(await admin.get(f"{API}/statements", params={"period": period}))
    return [await ok(await admin.get(f"{API}/statements/{s['id']}")) for s in listed]


# ----------------------------------------------------------------------------- 1


async def book_around_a_close(jimu_platform, tenant, admin, ids, docs, close_september
                              ) -> list[dict[str, Any]]:
    """Book the documents of phase ``before``; close September (by a run that closes it) if
    asked; then book those of phase ``after``. Returns each sales line booked with the period
    it belongs in: its month, or October for a September document booked once September is
    closed (a carried-forward correction)."""
    booked = await book(jimu_platform, tenant, admin, ids,
                        [d for d in docs if d["phase"] == "before"])
    if close_september:
        if not any(b["origin"] == "2026-09" for b in booked):
            await ok(await admin.post(f"{API}/periods", json={"period": "2026-09"}), 201)
        await ok(await admin.post(f"{API}/periods/2026-09/runs", json={"close": True}), 201)
        await jimu_platform.run_jobs()
        assert (await ok(await admin.get(f"{API}/periods/2026-09")))["status"] == "closed"
    late = await book(jimu_platform, tenant, admin, ids,
                      [d for d in docs if d["phase"] == "after"])
    for line in late:
        carried = close_september and line["origin"] == "2026-09"
        line["period"] = "2026-10" if carried else line["origin"]
    for line in booked:
        line["period"] = line["origin"]
    return booked + late


mixed_documents = st.lists(documents(months=(9, 10), phases=("before", "after")), min_size=1,
                           max_size=8)


@settings(DB_EXAMPLES, max_examples=15)
@example(docs=AROUND_A_CLOSE, close_september=True, per_page=2, per_order="15.50")
@given(docs=mixed_documents, close_september=st.booleans(), per_page=st.integers(1, 4),
       per_order=st.sampled_from([None, "0", "15.50"]))
async def test_every_statement_line_is_the_sum_of_the_entries_it_lists(
        jimu_platform, docs, close_september, per_page, per_order):
    share = {**SOUTH_SHARE, "per_order": per_order} if per_order else SOUTH_SHARE
    tenant, admin, ids = await tenant_with_dealers(jimu_platform, share=share)
    booked = await book_around_a_close(jimu_platform, tenant, admin, ids, docs,
                                       close_september)
    to_run = {b["period"] for b in booked} - ({"2026-09"} if close_september else set())
    for period in sorted(to_run):
        await run_period(jimu_platform, admin, period)
    for period in ("2026-09", "2026-10"):
        found = await statements_of(admin, period)
        assert {s["partner_id"] for s in found} == {
            b["partner_id"] for b in booked if b["period"] == period}
        for statement in found:
            for line in statement["lines"]:
                entries = await all_pages(
                    admin, f"{API}/statements/{statement['id']}/lines/{line['line_no']}/entries",
                    per_page=per_page)
                assert sum((D(e["amount"]) for e in entries), D(0)) == D(line["amount"]), line
                assert all(e["partner_id"] == statement["partner_id"]
                           and e["kind"] == line["kind"] and e["period"] == period
                           and (e["origin_period"] != period) == line["carried"]
                           for e in entries)
                if line["kind"] == "sales":
                    assert sum((D(e["quantity"]) for e in entries), D(0)) == D(line["quantity"])
                    assert len(entries) == line["entries"]
            lines = statement["lines"]
            payable = sum((D(x["amount"]) for x in lines if x["kind"] != "sales"), D(0))
            sales = sum((D(x["amount"]) for x in lines if x["kind"] == "sales"), D(0))
            assert (D(statement["payable"]), D(statement["sales"])) == (payable, sales)
            assert D(statement["payable"]) == D(statement["payable"]).quantize(D("0.01"))


# ----------------------------------------------------------------------------- 2


@settings(DB_EXAMPLES, max_examples=15)
@example(docs=AROUND_A_CLOSE, close_september=True)
@given(docs=mixed_documents, close_september=st.booleans())
async def test_the_sales_ledger_is_exactly_the_documents_booked(
        jimu_platform, docs, close_september):
    tenant, admin, ids = await tenant_with_dealers(jimu_platform)
    booked = await book_around_a_close(jimu_platform, tenant, admin, ids, docs,
                                       close_september)
    expected = Counter((b["partner_id"], b["period"], b["origin"], b["source"], b["ref"],
                        b["amount"], b["quantity"]) for b in booked)
    entries = await all_pages(admin, f"{API}/entries", {"kind": "sales"})
    ledger = Counter((e["partner_id"], e["period"], e["origin_period"], e["source_type"],
                      e["source_ref"], D(e["amount"]), D(e["quantity"])) for e in entries)
    assert ledger == expected
    # Per partner and period, the sums agree; the enterprise's revenue is the same money.
    sums: dict[tuple[int, str], D] = defaultdict(D)
    for b in booked:
        sums[(b["partner_id"], b["period"])] += b["amount"]
    for (partner_id, period), total in sums.items():
        mine = await all_pages(admin, f"{API}/entries", {"period": period, "kind": "sales",
                                                         "partner_id": partner_id})
        assert sum((D(e["amount"]) for e in mine), D(0)) == total
    revenue = await all_pages(admin, f"{API}/entries", {"kind": "order_revenue"})
    assert sum((D(e["amount"]) for e in revenue), D(0)) == sum(sums.values(), D(0))


# ----------------------------------------------------------------------------- 3


def snapshot(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(s["id"], s["number"], s["partner_id"], s["status"], s["revision"], s["sales"],
             s["payable"], [(x["line_no"], x["kind"], x["carried"], x["amount"], x["quantity"],
                             x["entries"], x["detail"]) for x in s["lines"]])
            for s in sorted(found, key=lambda s: s["partner_id"])]


async def programme_entries(admin) -> tuple[int, D]:
    rows = [e for e in await all_pages(admin, f"{API}/entries", {"period": "2026-10"})
            if e["source_type"] == "programme"]
    return len(rows), sum((D(e["amount"]) for e in rows), D(0))


@settings(DB_EXAMPLES, max_examples=10)
@example(docs=[d for d in AROUND_A_CLOSE if d["when"].month == 10], confirm=True)
@given(docs=st.lists(documents(), min_size=1, max_size=6), confirm=st.booleans())
async def test_running_a_period_again_gives_the_same_statements(jimu_platform, docs, confirm):
    tenant, admin, ids = await tenant_with_dealers(jimu_platform)
    await book(jimu_platform, tenant, admin, ids, docs)
    await run_period(jimu_platform, admin, "2026-10")
    if confirm:  # a confirmed statement stays confirmed when a run changes nothing
        first = (await ok(await admin.get(f"{API}/statements", params={"period": "2026-10"})))[0]
        await ok(await admin.post(f"{API}/statements/{first['id']}/confirm", json={}))
    before = snapshot(await statements_of(admin, "2026-10"))
    counted = await programme_entries(admin)
    paid = sum((D(line[3]) for s in before for line in s[7]
                if line[1] in ("rebates", "volume_shares")), D(0))
    assert counted[1] == paid
    for _ in range(2):
        await run_period(jimu_platform, admin, "2026-10")
        assert snapshot(await statements_of(admin, "2026-10")) == before
        assert await programme_entries(admin) == counted


# ----------------------------------------------------------------------------- 4

MOVES = ("close", "reopen", "reopen_without_reason", "run", "run_and_close", "book", "pay")


async def audit_count(admin, action) -> int:
    return (await ok(await admin.get("/api/v1/audit", params={
        "action": action, "per_page": 1})))["total"]


@settings(DB_EXAMPLES, max_examples=15)
@example(moves=["close", "run", "book", "close", "run", "close", "reopen_without_reason",
                "reopen", "close", "reopen"])
@example(moves=["run_and_close", "book", "run", "pay", "reopen", "close", "pay"])
@example(moves=["run", "pay", "close", "pay", "reopen_without_reason", "reopen"])
@given(moves=st.lists(st.sampled_from(MOVES), min_size=1, max_size=10))
async def test_a_period_closes_and_reopens_only_with_an_audit_record(jimu_platform, moves):
    tenant, admin, ids = await tenant_with_dealers(jimu_platform)
    day = iter(range(1, 32))

    async def order():
        await complete_order(jimu_platform, tenant, ids[0], [("TEA-500", "饮料", 10, "800.00")],
                             at(2026, 10, next(day)))

    await order()
    # The model: the period's status, whether its last completed run saw every document
    # booked in it, whether it has statements, and whether one is paid.
    model = {"status": "open", "covered": False, "statements": False, "paid": False}
    audits = {"close": 0, "reopen": 0}
    for move in moves:
        closes_before = await audit_count(admin, "settlement.period.close")
        reopens_before = await audit_count(admin, "settlement.period.reopen")
        assert (closes_before, reopens_before) == (audits["close"], audits["reopen"])
        is_open = model["status"] == "open"
        if move == "close":
            answer = await admin.post(f"{API}/periods/2026-10/close", json={"note": "关账"})
            expected = 200 if is_open and model["covered"] else 409
            assert answer.status_code == expected, answer.text
            if expected == 200:
                model["status"] = "closed"
                audits["close"] += 1
        elif move in ("reopen", "reopen_without_reason"):
            reason = "补录" if move == "reopen" else "  "
            answer = await admin.post(f"{API}/periods/2026-10/reopen", json={"reason": reason})
            expected = (422 if not reason.strip() else
                        409 if is_open or model["paid"] else 200)
            assert answer.status_code == expected, answer.text
            if expected == 200:
                model["status"] = "open"
                audits["reopen"] += 1
        elif move in ("run", "run_and_close"):
            answer = await admin.post(f"{API}/periods/2026-10/runs",
                                      json={"close": move == "run_and_close"})
            assert answer.status_code == (201 if is_open else 409), answer.text
            await jimu_platform.run_jobs()
            if is_open:
                model.update(covered=True, statements=True)
                if move == "run_and_close":
                    model["status"] = "closed"
                    audits["close"] += 1
        elif move == "book":
            await order()  # booked in October while it is open, else carried into November
            if is_open:
                model["covered"] = False
        elif move == "pay" and model["statements"]:
            [statement] = await ok(await admin.get(f"{API}/statements", params={
                "period": "2026-10"}))
            if statement["status"] in ("draft", "disputed"):
                await ok(await admin.post(f"{API}/statements/{statement['id']}/confirm",
                                          json={}))
            answer = await admin.post(f"{API}/statements/{statement['id']}/pay",
                                      json={"reference": "BANK-1"})
            expected = 200 if not is_open and not model["paid"] else 409
            assert answer.status_code == expected, answer.text
            model["paid"] = model["paid"] or expected == 200
        period = await ok(await admin.get(f"{API}/periods/2026-10"))
        assert period["status"] == model["status"], (move, moves)
        assert await audit_count(admin, "settlement.period.close") == audits["close"], move
        assert await audit_count(admin, "settlement.period.reopen") == audits["reopen"], move
    for action, status in (("close", "closed"), ("reopen", "open")):
        logged = await all_pages(admin, "/api/v1/audit", {"action": f"settlement.period.{action}"})
        assert [(a["target"], a["after"]["status"]) for a in logged] == [
            ("settlement_period:2026-10", status)] * audits[action]


# ----------------------------------------------------------------------------- 5

RATE_PLACES = D("0.0001")


@st.composite
def ladders(draw, metric=None):
    """A ladder that validation accepts: bands from 0, contiguous, the last open-ended, rates
    never falling (at most 100% of the amount, four decimal places)."""
    metric = metric or draw(st.sampled_from(programmes.METRICS))
    count = draw(st.integers(1, 6))
    widths = draw(st.lists(st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2),
                           min_size=count - 1, max_size=count - 1))
    top = D(100) if metric == "amount" else D(50)
    steps = draw(st.lists(st.decimals(min_value=D(0), max_value=top, places=4),
                          min_size=count, max_size=count))
    rates, rate = [], D(0)
    for step in steps:  # rising by a random step, capped at the top rate
        rate = min(top, rate + step / count)
        rates.append(rate.quantize(RATE_PLACES))
    bands, low = [], D(0)
    for width, rate in zip([*widths, None], rates, strict=True):
        high = None if width is None else low + width
        bands.append({"min": str(low), "max": None if high is None else str(high),
                      "rate": str(rate)})
        low = high if high is not None else low
    return {"kind": "ladder_rebate", "metric": metric,
            "mode": draw(st.sampled_from(programmes.MODES)), "unit": "箱",
            "bands": programmes.check_bands(bands, metric)}


volumes = st.decimals(min_value=D(0), max_value=D("30000"), places=4)


def rebate(ladder: dict[str, Any], volume: D) -> D:
    return programmes.outcome(ladder, programmes.Volume(quantity=volume, amount=volume)).amount


@settings(max_examples=500, deadline=None)
@given(ladder=ladders(), first=volumes, second=volumes)
def test_a_ladder_rebate_never_decreases_when_volume_increases(ladder, first, second):
    low, high = sorted((first, second))
    assert D(0) <= rebate(ladder, low) <= rebate(ladder, high)


@settings(max_examples=300, deadline=None)
@given(ladder=ladders(), volume=volumes)
def test_a_ladder_rebate_grows_across_every_band_boundary(ladder, volume):
    """Just below and at each band's start, and one cent on: never less."""
    for band in ladder["bands"][1:]:
        start = D(band["min"])
        assert rebate(ladder, start - D("0.0001")) <= rebate(ladder, start) <= rebate(
            ladder, start + D("0.01"))
    assert rebate(ladder, volume) <= rebate(ladder, volume + D(1))


@settings(max_examples=200, deadline=None)
@given(metric=st.sampled_from(programmes.METRICS),
       rates=st.lists(st.decimals(min_value=D(0), max_value=D(100), places=2), min_size=2,
                      max_size=5))
def test_validation_refuses_a_ladder_whose_rate_falls(metric, rates):
    """What makes the property hold for ``whole`` ladders: a falling rate would pay less for
    more volume (999 × 2 元 > 1,000 × 1 元), and validation never lets one through."""
    assume(any(b < a for a, b in itertools.pairwise(rates)))
    last = len(rates) - 1
    bands = [{"min": str(i * 1000), "max": None if i == last else str((i + 1) * 1000),
              "rate": str(r)} for i, r in enumerate(rates)]
    with pytest.raises(ValidationFailed) as refused:
        programmes.check_bands(bands, metric)
    assert refused.value.field.endswith(".rate")
