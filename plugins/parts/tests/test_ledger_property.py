"""Property: whatever sequence of stock operations runs (refused ones included), for every
(warehouse, sku) the ledger's deltas sum to the stock row, on hand ≥ reserved ≥ 0, and each
operation is accepted exactly when a simple model of the stock says it should be."""

from collections import defaultdict
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jimu_parts import services
from jimu_parts.tables import Movement, Stock
from jimu_price_lists import public as price_lists
from jimu_sdk import JimuError

WAREHOUSES = ("SH", "SZ")
SKUS = ("OIL-FILTER", "OIL-5W30-1L")
quantities = st.decimals(min_value=D("0.5"), max_value=30, places=1)
costs = st.decimals(min_value=1, max_value=100, places=2)
operation = st.one_of(
    st.tuples(st.just("receipt"), st.sampled_from(WAREHOUSES), st.sampled_from(SKUS),
              quantities, costs),
    st.tuples(st.just("adjustment"), st.sampled_from(WAREHOUSES), st.sampled_from(SKUS),
              quantities, st.booleans()),
    st.tuples(st.just("reserve"), st.sampled_from(WAREHOUSES), st.sampled_from(SKUS),
              quantities),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("consume"), st.integers(0, 20), st.one_of(st.none(), quantities)),
    st.tuples(st.just("return"), st.integers(0, 20), quantities),
    st.tuples(st.just("transfer"), st.sampled_from(WAREHOUSES), st.sampled_from(SKUS),
              quantities),
)


async def _run(op, refs):
    kind = op[0]
    if kind == "receipt":
        await services.receive(warehouse=op[1], sku=op[2], quantity=op[3], unit_cost=op[4])
    elif kind == "adjustment":
        await services.adjust(warehouse=op[1], sku=op[2], delta=op[3] if op[4] else -op[3],
                              note="count")
    elif kind == "reserve":
        await services.reserve(ref=f"r{len(refs)}", sku=op[2], quantity=op[3], warehouse=op[1])
    elif kind == "release":
        await services.release(refs[op[1] % len(refs)] if refs else "none")
    elif kind == "consume":
        await services.consume(refs[op[1] % len(refs)] if refs else "none", op[2])
    elif kind == "return":
        await services.return_consumed(refs[op[1] % len(refs)] if refs else "none", op[2])
    elif kind == "transfer":
        other = "SZ" if op[1] == "SH" else "SH"
        await services.transfer(source=op[1], target=other, sku=op[2], quantity=op[3])


def _expect(op, refs, model, reservations):
    """Whether the model accepts ``op``, applying it to the model if so."""
    kind = op[0]
    if kind == "receipt":
        model[(op[1], op[2])][0] += op[3]
        return True
    if kind == "adjustment":
        row = model[(op[1], op[2])]
        if not op[4] and row[0] - row[1] < op[3]:
            return False
        row[0] += op[3] if op[4] else -op[3]
        return True
    if kind == "reserve":
        row = model[(op[1], op[2])]
        if row[0] - row[1] < op[3]:
            return False
        row[1] += op[3]
        reservations[f"r{len(refs)}"] = {"key": (op[1], op[2]), "qty": op[3],
                                         "status": "active", "consumed": D(0),
                                         "returned": D(0)}
        return True
    if kind == "transfer":
        row = model[(op[1], op[2])]
        if row[0] - row[1] < op[3]:
            return False
        row[0] -= op[3]
        model[("SZ" if op[1] == "SH" else "SH", op[2])][0] += op[3]
        return True
    if not refs:
        return False
    res = reservations[refs[op[1] % len(refs)]]
    row = model[res["key"]]
    if kind == "release":
        if res["status"] != "active":
            return False
        row[1] -= res["qty"]
        res["status"] = "released"
        return True
    if kind == "consume":
        qty = res["qty"] if op[2] is None else op[2]
        if res["status"] != "active" or qty > res["qty"]:
            return False
        row[0] -= qty
        row[1] -= res["qty"]
        res.update(status="consumed", consumed=qty)
        return True
    if kind == "return":
        if res["status"] != "consumed" or op[2] > res["consumed"] - res["returned"]:
            return False
        row[0] += op[2]
        res["returned"] += op[2]
        return True
    raise AssertionError(kind)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
async def test_ledger_always_sums_to_the_stock(jimu_platform, ops):
    tenant = await jimu_platform.make_tenant(plugins=["price_lists", "parts"])
    async with jimu_platform.as_tenant(tenant):
        for sku in SKUS:
            await price_lists.upsert_item(sku=sku, name=sku, kind="part", unit="个",
                                          category="", list_price=D(10), cost=D(5))
        for code in WAREHOUSES:
            await services.create_warehouse(code=code, name=code, region_code=None)
        for sku in SKUS:
            await services.create_part(sku=sku)
    model = defaultdict(lambda: [D(0), D(0)])
    reservations: dict = {}
    refs: list[str] = []
    for op in ops:
        expected = _expect(op, refs, model, reservations)
        try:
            async with jimu_platform.as_tenant(tenant):
                await _run(op, refs)
            accepted = True
        except JimuError:
            accepted = False
        assert accepted == expected, op
        if op[0] == "reserve" and accepted:
            refs.append(f"r{len(refs)}")
    async with jimu_platform.as_tenant(tenant):
        sums = defaultdict(lambda: [D(0), D(0)])
        names = {w["id"]: w["code"] for w in await services.list_warehouses()}
        for m in await Movement.scoped_select():
            key = (names[m["warehouse_id"]], m["sku"])
            sums[key][0] += services.dec(m["on_hand_delta"])
            sums[key][1] += services.dec(m["reserved_delta"])
        for row in await Stock.scoped_select():
            key = (names[row["warehouse_id"]], row["sku"])
            on_hand, reserved = services.dec(row["on_hand"]), services.dec(row["reserved"])
            assert [on_hand, reserved] == sums[key], key
            assert [on_hand, reserved] == model[key], key
            assert on_hand >= reserved >= 0
