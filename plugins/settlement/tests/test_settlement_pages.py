"""The settlement pages: periods with a run's live progress, closing; statements down to their
ledger entries and the partner's confirm; a work order's revenue as the enterprise and as the
installer sees it; the partner's own page with the distance to the next band."""

from settlement_support import (
    API,
    NORTH_LADDER,
    at,
    complete_order,
    ok,
    partner,
    repair,
    run_period,
    world,
)

BASE = "/admin/p/settlement"


def csrf(client):
    return {"csrf_token": client.headers["X-CSRF-Token"]}


async def test_an_admin_runs_and_closes_a_period_from_the_page(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await world(jimu_platform, rules=False)
    north = await partner(here.admin, "HB-TJ", "天津津南一级代理", "120112", level="level1")
    await ok(await here.admin.post(f"{API}/programmes", json=NORTH_LADDER), 201)
    await complete_order(jimu_platform, here.tenant, north, [("TEA", "饮料", 4680, "318240.00")],
                         at(2026, 10, 9))
    page = await here.admin.get(f"{BASE}/")
    assert page.status_code == 200 and 'data-period="2026-10"' in page.text
    started = await here.admin.post(f"{BASE}/periods/2026-10/run", data=csrf(here.admin))
    assert started.status_code == 303
    queued = await here.admin.get(started.headers["location"])
    assert 'data-status="running"' in queued.text and 'hx-trigger="every 2s"' in queued.text
    await jimu_platform.run_jobs()
    [run] = await ok(await here.admin.get(f"{API}/runs"))
    progress = await here.admin.get(f"{BASE}/runs/{run['id']}/progress")
    assert 'data-status="completed"' in progress.text and "hx-trigger" not in progress.text
    closed = await here.admin.post(f"{BASE}/periods/2026-10/close",
                                   data={**csrf(here.admin), "note": "十月关账"})
    assert closed.status_code == 303
    shown = await here.admin.get(f"{BASE}/")
    assert ("十月关账" in shown.text and "Reopen" in shown.text) or "重新开账" in shown.text
    again = await here.admin.post(f"{BASE}/periods/2026-10/run", data=csrf(here.admin))
    assert again.status_code == 409 and "2026-10" in again.text


async def test_statements_lead_to_their_entries_and_the_partner_confirms(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await world(jimu_platform, rules=False)
    north = await partner(here.admin, "HB-TJ", "天津津南一级代理", "120112", level="level1")
    await jimu_platform.make_user(here.tenant, f"{here.tenant.slug}-tj", role="partner",
                                  partner_id=north)
    dealer = await jimu_platform.login(f"{here.tenant.slug}-tj")
    await ok(await here.admin.post(f"{API}/programmes", json=NORTH_LADDER), 201)
    order = await complete_order(jimu_platform, here.tenant, north, [
        ("TEA", "饮料", 4680, "318240.00")], at(2026, 10, 9))
    await run_period(jimu_platform, here.admin, "2026-10")
    listing = await here.admin.get(f"{BASE}/statements?period=2026-10")
    assert listing.status_code == 200 and "天津津南一级代理" in listing.text
    [statement] = await ok(await here.admin.get(f"{API}/statements"))
    detail = await dealer.get(f"{BASE}/statements/{statement['id']}")
    assert detail.status_code == 200
    assert 'data-kind="rebates"' in detail.text and "4,680箱 达到第 2 档" in detail.text
    assert 'data-testid="confirm"' in detail.text and 'data-testid="pay"' not in detail.text
    entries = await dealer.get(f"{BASE}/statements/{statement['id']}/lines/1")
    assert order["order_no"] in entries.text
    confirmed = await dealer.post(f"{BASE}/statements/{statement['id']}/confirm",
                                  data=csrf(dealer))
    assert confirmed.status_code == 303
    shown = await dealer.get(confirmed.headers["location"])
    assert 'data-status="confirmed"' in shown.text
    paid = await here.admin.post(f"{BASE}/statements/{statement['id']}/pay",
                                 data={**csrf(here.admin), "reference": "B-1"})
    assert paid.status_code == 409 and "2026-10" in paid.text  # the period is open
    mine = await dealer.get(f"{BASE}/my")
    assert mine.status_code == 200 and statement["number"] in mine.text
    assert (await dealer.get(f"{BASE}/")).headers.get("location", "").endswith("/my")


async def test_the_installer_sees_its_own_fees_and_the_next_band(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 12))
    here = await world(jimu_platform)
    order = await repair(jimu_platform, here)
    admin_view = await here.admin.get(f"{BASE}/work-orders/{order['id']}")
    assert admin_view.status_code == 200 and 'data-testid="margin"' in admin_view.text
    assert 'data-key="parts:FILTER"' in admin_view.text
    mine = await here.installer_client.get(f"{BASE}/work-orders/{order['id']}")
    assert mine.status_code == 200 and 'data-testid="share"' in mine.text
    assert "280.00" in mine.text and 'data-key="parts:FILTER"' not in mine.text
    assert 'data-testid="margin"' not in mine.text
    portal = await here.installer_client.get(f"{BASE}/my")
    assert order["number"] in portal.text and "280.00" in portal.text
    stranger_partner = await partner(here.admin, "HN-X", "华南某商", "440106")
    await jimu_platform.make_user(here.tenant, f"{here.tenant.slug}-x", role="partner",
                                  partner_id=stranger_partner)
    stranger = await jimu_platform.login(f"{here.tenant.slug}-x")
    assert (await stranger.get(f"{BASE}/work-orders/{order['id']}")).status_code == 404
