"""Properties of the volume bands, on the pure functions (no database)."""

from decimal import Decimal

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from jimu_price_tiers.services import MonthlyVolumeBody, check_bands, decide_volume

RANKS = {"A": 1, "B": 2, "C": 3, "D": 4}


@st.composite
def valid_bands(draw):
    """Contiguous bands over [0, ∞) whose tier never gets worse as volume grows."""
    cuts = sorted(draw(st.sets(st.integers(1, 100_000), min_size=0, max_size=3)))
    edges = [0, *cuts]
    ranks = sorted(draw(st.lists(st.integers(1, 4), min_size=len(edges),
                                 max_size=len(edges))), reverse=True)
    tiers = {v: k for k, v in RANKS.items()}
    return [{"min": str(low), "max": str(edges[i + 1]) if i + 1 < len(edges) else None,
             "tier": tiers[ranks[i]]} for i, low in enumerate(edges)]


quantities = st.decimals(min_value=0, max_value=200_000, places=4, allow_nan=False,
                         allow_infinity=False)


@given(valid_bands(), quantities, quantities)
def test_more_volume_never_gives_a_worse_tier(bands, q1, q2):
    check_bands(msgspec.convert({"bands": bands}, MonthlyVolumeBody, strict=False), RANKS)
    rule_set = {"code": "v", "body": {"bands": bands}}
    low, high = sorted((q1, q2))
    worse = decide_volume(rule_set, low, "2026-10")
    better = decide_volume(rule_set, high, "2026-10")
    assert RANKS[better.tier] <= RANKS[worse.tier]


@given(valid_bands(), quantities)
def test_every_volume_falls_in_exactly_one_band(bands, quantity):
    hits = [b for b in bands if Decimal(b["min"]) <= quantity
            and (b["max"] is None or quantity < Decimal(b["max"]))]
    assert len(hits) == 1
    assert decide_volume({"code": "v", "body": {"bands": bands}}, quantity,
                         "2026-10").tier == hits[0]["tier"]
