"""Rebate and share programmes: both ladder forms with exact numbers, the volume share, the
rules a ladder must keep, and the property that a ladder rebate never falls as volume grows."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st
from jimu_settlement import programmes
from settlement_support import API, NORTH_LADDER, SOUTH_SHARE, ok

LADDER = {**NORTH_LADDER, "enabled": True, "valid_from": "", "valid_to": "", "items": [],
          "share_pct": None, "per_order": None}


def rebate(mode, cases):
    return programmes.ladder({**LADDER, "mode": mode}, programmes.Volume(quantity=D(cases)))


def test_whole_volume_takes_the_rate_of_the_band_reached():
    assert rebate("whole", 200).amount == D("0.00")
    assert rebate("whole", 4680).amount == D("4680.00")  # 4,680 cases × 1 元
    reached = rebate("whole", 5000)
    assert (reached.amount, reached.band, reached.next_low) == (D("10000.00"), 2, None)
    assert rebate("whole", 4680).explanation == "4,680箱 达到第 2 档，全量按 1 元/箱 = 4,680.00"


def test_each_band_at_its_own_rate():
    assert rebate("banded", 4680).amount == D("3680.00")  # 3,680 cases above 1,000 × 1 元
    assert rebate("banded", 5120).amount == D("4240.00")  # 4,000 × 1 + 120 × 2
    assert rebate("banded", 5120).explanation == (
        "5,120箱 分档累进：4,000箱 × 1 元/箱 + 120箱 × 2 元/箱 = 4,240.00")


def test_the_next_band_is_named_with_its_distance():
    at = rebate("whole", 4680)
    assert (at.band, at.next_low - at.volume, at.next_rate) == (1, D(320), D(2))


def test_a_volume_share_is_a_percentage_of_the_amount_plus_per_order():
    share = {**SOUTH_SHARE, "share_pct": D("3"), "per_order": D("5.00")}
    result = programmes.volume_share(share, programmes.Volume(amount=D("120000.00"), orders=4))
    assert result.amount == D("3620.00")
    assert result.explanation == "订单金额 120,000.00 × 3% + 4 单 × 5.00 = 3,620.00"


rates = st.lists(st.decimals(min_value=0, max_value=50, places=2), min_size=1, max_size=6)


@given(rates=rates, widths=st.lists(st.integers(1, 5000), min_size=6, max_size=6),
       volumes=st.lists(st.decimals(min_value=0, max_value=40000, places=1), min_size=2,
                        max_size=2),
       mode=st.sampled_from(["whole", "banded"]))
def test_a_ladder_rebate_never_falls_when_volume_grows(rates, widths, volumes, mode):
    rates = sorted(rates)
    low, bands = D(0), []
    for index, rate in enumerate(rates):
        high = None if index == len(rates) - 1 else low + widths[index]
        bands.append({"min": str(low), "max": None if high is None else str(high),
                      "rate": str(rate)})
        low = high if high is not None else low
    checked = programmes.check_bands(bands, "quantity")
    ladder = {**LADDER, "mode": mode, "bands": checked}
    small, large = sorted(volumes)
    assert programmes.ladder(ladder, programmes.Volume(quantity=small)).amount <= (
        programmes.ladder(ladder, programmes.Volume(quantity=large)).amount)


async def test_programmes_refuse_overlapping_bands_and_shares_above_100(jimu_platform):
    from settlement_support import world

    here = await world(jimu_platform, rules=False)
    made = await here.admin.post(f"{API}/programmes", json=NORTH_LADDER)
    assert made.status_code == 201, made.text
    overlapping = {**NORTH_LADDER, "code": "BAD", "bands": [
        {"min": "0", "max": "1000", "rate": "0"}, {"min": "800", "rate": "1"}]}
    refused = await here.admin.post(f"{API}/programmes", json=overlapping)
    assert refused.status_code == 422 and refused.json()["field"] == "bands[1].min"
    assert "overlaps" in refused.json()["message"]
    falling = {**NORTH_LADDER, "code": "BAD", "bands": [
        {"min": "0", "max": "1000", "rate": "2"}, {"min": "1000", "rate": "1"}]}
    refused = await here.admin.post(f"{API}/programmes", json=falling)
    assert refused.status_code == 422 and refused.json()["field"] == "bands[1].rate"
    gap = {**NORTH_LADDER, "code": "BAD", "bands": [
        {"min": "0", "max": "1000", "rate": "0"}, {"min": "1200", "rate": "1"}]}
    assert (await here.admin.post(f"{API}/programmes", json=gap)).json()["field"] == (
        "bands[1].min")
    too_much = await here.admin.post(f"{API}/programmes", json={
        **SOUTH_SHARE, "share_pct": "120"})
    assert too_much.status_code == 422 and too_much.json()["field"] == "share_pct"
    unknown = await here.admin.post(f"{API}/programmes", json={
        **SOUTH_SHARE, "partner_codes": ["NOPE"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "partner_codes"
    twice = await here.admin.post(f"{API}/programmes", json=NORTH_LADDER)
    assert twice.status_code == 409
    listed = await ok(await here.admin.get(f"{API}/programmes"))
    assert [p["code"] for p in listed] == ["HB-LADDER"]
