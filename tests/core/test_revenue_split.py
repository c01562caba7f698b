"""The revenue split fold: the enterprise starts with every line, steps move parts of lines
between the parties of the document, shares are rounded once (the enterprise takes the
rounding), and a misbehaving step fails the split closed, naming the plugin."""

import asyncio
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jimu.services.revenue_split import _split
from jimu_sdk import Money, PricingError, SplitContext, SplitLine, ValidationFailed, platform

from tests.sample_plugins import bad_split, installer_share


@pytest.fixture
def jimu_plugins():
    return [installer_share, bad_split]


@pytest.fixture
def jimu_load_installed():
    return False


async def partners_of(platform_, tenant):
    admin = await platform_.login(tenant.admin_username)
    dealer = (await admin.post("/api/v1/partners", json={
        "code": "HB-ZD", "name": "华北总代", "kind": "dealer", "level": "general_agent",
        "region_code": "110105"})).json()
    installer = (await admin.post("/api/v1/partners", json={
        "code": "SZ-INST", "name": "苏州安装", "kind": "installer",
        "region_code": "320506"})).json()
    return dealer["id"], installer["id"]


def work_order(tenant_id, parties, *, labour="230.00", parts="100.00", callout="50.00"):
    return SplitContext(
        tenant_id=tenant_id, document="work_orders:7", kind="work_order",
        lines=(SplitLine("labour", "labour", Money(labour), "工时 2h"),
               SplitLine("parts:OIL", "parts", Money(parts), "机油滤芯", cost=Money("60.00")),
               SplitLine("callout", "callout", Money(callout), "上门费")),
        parties=parties, region_code="320506")


async def test_shares_sum_to_each_line_and_the_enterprise_takes_the_rounding(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["installer_share"])
    dealer, installer = await partners_of(jimu_platform, tenant)
    async with jimu_platform.as_tenant(tenant):
        [result] = await platform().split_revenue([work_order(
            tenant.id, {"dealer": dealer, "installer": installer})])
    labour, parts, callout = result.lines
    assert labour.shares == {"enterprise": Money("69.00"), "installer": Money("161.00")}
    assert parts.shares == {"enterprise": Money("66.67"), "dealer": Money("33.33")}
    assert callout.shares == {"enterprise": Money("0.00"), "installer": Money("50.00")}
    assert parts.cost == Money("60.00")
    assert result.totals() == {"enterprise": Money("135.67"), "installer": Money("211.00"),
                               "dealer": Money("33.33")}
    moves = [(t.plugin, t.rule, t.line, t.source, t.to, t.amount.amount) for t in result.trace]
    assert moves == [
        ("installer_share", "installer-labour", "labour", "enterprise", "installer",
         Decimal("161.000")),
        ("installer_share", "installer-labour", "callout", "enterprise", "installer",
         Decimal("50.00")),
        ("installer_share", "dealer-third", "parts:OIL", "enterprise", "dealer",
         Decimal("100.00") / 3),
        ("core", "rounding", "parts:OIL", "enterprise", "dealer",
         Decimal("33.33") - Decimal("100.00") / 3)]
    assert result.trace[0].facts == {"installer.kind": "installer"}
    assert result.facts["region.path"] == ("320000", "320500", "320506")
    assert result.facts["dealer.level"] == "general_agent"


async def test_a_document_without_the_party_keeps_its_money_with_the_enterprise(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["installer_share"])
    _, installer = await partners_of(jimu_platform, tenant)
    installer_share.PREPARED.clear()
    async with jimu_platform.as_tenant(tenant):
        results = await platform().split_revenue([
            work_order(tenant.id, {"installer": installer}), work_order(tenant.id, {})])
    assert installer_share.PREPARED == [2]  # prepared once for the whole call
    assert results[0].totals()["installer"] == Money("211.00")
    assert results[1].totals() == {"enterprise": Money("380.00")}
    assert results[1].trace == ()


async def test_bad_documents_are_refused_naming_the_field(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["installer_share"])
    async with jimu_platform.as_tenant(tenant):
        with pytest.raises(ValidationFailed) as unknown:
            await platform().split_revenue([work_order(tenant.id, {}),
                                            work_order(tenant.id, {"installer": 99999})])
        with pytest.raises(ValidationFailed) as unrounded:
            await platform().split_revenue([work_order(tenant.id, {}, labour="10.005")])
        with pytest.raises(ValidationFailed) as enterprise:
            await platform().split_revenue([work_order(tenant.id, {"enterprise": 1})])
    assert unknown.value.field == "documents[1].parties.installer"
    assert unrounded.value.field == "documents[0].lines[0].amount"
    assert enterprise.value.field == "documents[0].parties"


@pytest.mark.parametrize("mode, message", [
    ("raise", "no split: plugin bad_split failed in split step misbehave"),
    ("stranger", "but this document has no agent"),
    ("unknown-line", "a line nope that the document does not have")])
async def test_a_misbehaving_step_fails_the_split_closed(jimu_platform, mode, message):
    tenant = await jimu_platform.make_tenant(plugins=["installer_share", "bad_split"])
    bad_split.MODE["value"] = mode
    async with jimu_platform.as_tenant(tenant):
        with pytest.raises(PricingError) as failed:
            await platform().split_revenue([work_order(tenant.id, {})])
    assert message in failed.value.message
    recorded = jimu_platform.kernel.failures.counts[
        (tenant.id, "bad_split", "register_revenue_split_steps")]
    assert recorded == (1 if mode == "raise" else 0)


cents = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=2)


@given(labour=cents, parts=cents, callout=cents)
def test_every_split_sums_to_the_total_to_the_cent(labour, parts, callout):
    # The fold itself, without a database: the sample steps, applied as core applies them.
    steps = installer_share.register_revenue_split_steps()
    dealer_parts = asyncio.run(steps[1].prepare([SplitContext(
        1, "d", "work_order", (SplitLine("x", "parts", Money("1")),), {"dealer": 1})]))
    appliers = [("installer_share", steps[0], steps[0].apply),
                ("installer_share", steps[1], dealer_parts)]
    context = msgspec.structs.replace(
        work_order(1, {"dealer": 1, "installer": 2}, labour=str(labour), parts=str(parts),
                   callout=str(callout)), facts={"installer.kind": "installer"})
    result = _split(None, None, context, appliers)
    for line in result.lines:
        assert sum(m.amount for m in line.shares.values()) == line.amount.amount
        assert all(m.amount == m.amount.quantize(Decimal("0.01")) for m in line.shares.values())
    assert sum(m.amount for m in result.totals().values()) == labour + parts + callout
