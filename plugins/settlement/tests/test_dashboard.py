"""The settlement dashboard on the demo tenant: every chart with its table, the XLSX export of
one table and of all, the region filter, and partners kept out."""

import io
from decimal import Decimal as D

import pytest
from settlement_support import at

PAGE = "/admin/p/settlement/dashboard"


@pytest.fixture
def jimu_plugins():
    """The settlement tests' plugins and price tiers, which gives the demo dealers a tier."""
    from jimu_flow_nodes import plugin as flow_nodes
    from jimu_parts import plugin as parts
    from jimu_price_lists import plugin as price_lists
    from jimu_price_tiers import plugin as price_tiers
    from jimu_regional_pricing import plugin as regional_pricing
    from jimu_settlement import plugin as settlement
    from jimu_work_orders import plugin as work_orders

    return [price_lists, regional_pricing, price_tiers, parts, flow_nodes, work_orders,
            settlement]


@pytest.fixture
async def demo(jimu_platform):
    from jimu.demo import ensure_demo

    jimu_platform.clock.freeze(at(2026, 11, 20))
    await ensure_demo(jimu_platform.kernel, "demo-password-1")
    await jimu_platform.run_jobs()
    return await jimu_platform.login("demo-admin", "demo-password-1")


async def test_the_dashboard_shows_every_chart_with_its_table(jimu_platform, demo):
    page = await demo.get(PAGE, params={"from": "2026-10", "to": "2026-11"})
    assert page.status_code == 200, page.text
    html = page.text
    for key in ("over-time", "regions", "tiers", "partners", "installers", "accruals"):
        assert f'data-chart="chart-{key}"' in html
    for key in ("over_time", "regions", "tiers", "partners", "installers", "accruals",
                "documents"):
        assert f'id="table-{key}"' in html and f"table={key}" in html
    assert "华北总代·北京京联商贸" in html and "苏州吴中安装服务商" in html
    # October: the imported purchases (606,342.00) less their cost, less the rebates and
    # shares the closed month's run booked.
    workbook = await demo.get(f"{PAGE}.xlsx", params={"from": "2026-10", "to": "2026-10",
                                                      "table": "over_time"})
    assert workbook.status_code == 200
    from openpyxl import load_workbook

    [sheet] = load_workbook(io.BytesIO(workbook.content)).worksheets
    header, october = [[c.value for c in row] for row in sheet.iter_rows()]
    figures = dict(zip(header, october, strict=True))
    assert figures["结算期"] == "2026-10"
    assert D(str(figures["收益"])) == D("379302.00")
    assert D(str(figures["支付给伙伴"])) == D("10800.00") + D("2926.80") + D("569.77")
    everything = await demo.get(f"{PAGE}.xlsx", params={"from": "2026-10", "to": "2026-11"})
    assert len(load_workbook(io.BytesIO(everything.content)).worksheets) == 7


async def test_a_regional_manager_sees_the_profit_of_each_document_in_a_province(
        jimu_platform, demo):
    page = await demo.get(PAGE, params={"from": "2026-10", "to": "2026-11",
                                        "region": "110000"})
    assert page.status_code == 200
    documents = page.text.split('id="table-documents"')[1].split("</table>")[0]
    assert "ERP-202610-001" in documents and "ERP-202610-007" not in documents  # 广州
    refused = await demo.get(PAGE, params={"region": "999999"})
    assert refused.status_code == 422 and "999999" in refused.text
    backwards = await demo.get(PAGE, params={"from": "2026-11", "to": "2026-10"})
    assert backwards.status_code == 422


async def test_partners_never_see_the_dashboard(jimu_platform, demo):
    dealer = await jimu_platform.login("demo-dealer", "demo-password-1")
    assert (await dealer.get(PAGE)).status_code == 403
    assert (await dealer.get(f"{PAGE}.xlsx")).status_code == 403


async def test_a_dealer_sees_its_tier_and_why_but_not_others(jimu_platform, demo):
    dealer = await jimu_platform.login("demo-dealer", "demo-password-1")
    mine = await dealer.get("/admin/p/settlement/my")
    assert mine.status_code == 200
    tier = mine.text.split('data-testid="tier"')[1].split("<")[0]
    assert tier.strip(">").strip() not in ("", "—")
    assert 'data-testid="tier-reason"' in mine.text
    partners = {p["code"]: p["id"] for p in (await demo.get(
        "/api/v1/partners", params={"per_page": 100})).json()["items"]}
    standing = (await dealer.get(f"/api/v1/settlement/accruals/{partners['HB-ZD']}")).json()
    assert standing["tier"] == tier.strip(">").strip() and standing["tier_reason"]
    other = await dealer.get(f"/api/v1/settlement/accruals/{partners['HN-ZD']}")
    assert other.status_code == 404
    tiers = (await demo.get(PAGE)).text.split('id="table-tiers"')[1].split("</table>")[0]
    assert f">{standing['tier']}<" in tiers
