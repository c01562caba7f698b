"""Properties of a document's money: totals are sums of the rounded lines, net + tax = total."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from jimu_quotations import services
from jimu_sdk import Money, PriceResult, PriceTraceLine

amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4)
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("5000"), places=3)


def result(unit: Decimal, quantity: Decimal, rate: Decimal) -> PriceResult:
    net = unit * quantity
    gross = net * (1 + rate)
    total = Money(gross).rounded()
    tax = Money(gross - net).rounded()
    trace = (PriceTraceLine(plugin="p", rule="list", reason="list", before=Money(0),
                            after=Money(net)),
             PriceTraceLine(plugin="p", rule="vat", reason="vat", before=Money(net),
                            after=Money(gross), kind="tax"))
    return PriceResult(total=total, unit_price=Money(unit), trace=trace, tax=tax)


@given(st.lists(st.tuples(amounts, quantities, st.sampled_from(
    [Decimal(0), Decimal("0.06"), Decimal("0.09"), Decimal("0.13")])), min_size=1,
    max_size=30))
def test_totals_are_sums_of_rounded_lines(lines):
    priced = [services.priced_line(i + 1, f"SKU-{i}", q, result(u, q, r), {})
              for i, (u, q, r) in enumerate(lines)]
    for line in priced:
        assert line.total == line.total.quantize(Decimal("0.01"))
        assert line.net + line.tax == line.total
    sums = services.totals(priced)
    assert sums["total"] == sum(line.total for line in priced)
    assert sums["net"] + sums["tax"] == sums["total"]
    assert sums["total"] == sums["total"].quantize(Decimal("0.01"))  # never re-rounded
