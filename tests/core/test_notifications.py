"""In-app notifications: sent by plugins through platform().notify, counted until read, live
on open pages (server-sent events), never shown to another person or tenant."""

import asyncio
import json

from jimu_sdk.context import platform
from jimu_sdk.types import localized


async def send(jimu_platform, tenant, user_ids, title, **kwargs):
    async with jimu_platform.as_tenant(tenant):
        return await platform().notify(user_ids, title, **kwargs)


async def test_notify_reaches_only_the_tenants_people_and_a_key_only_once(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    other = await jimu_platform.make_tenant()
    alice = await jimu_platform.make_user(tenant, "alice")
    stranger = await jimu_platform.make_user(other, "stranger")
    title = localized("工单 WO-1 已派给你", "Work order WO-1 is assigned to you")
    assert await send(jimu_platform, tenant, [alice, stranger, alice], title,
                      link="/work-orders/1", level="urgent", key="wo-1-assigned") == 1
    # The same key again (a redelivered event) sends nothing.
    assert await send(jimu_platform, tenant, [alice], title, key="wo-1-assigned") == 0

    client = await jimu_platform.login("alice")
    client.cookies.set("jimu_lang", "en")  # the person chose English
    inbox = (await client.get("/api/v1/notifications")).json()
    assert inbox["unread"] == 1
    [item] = inbox["items"]
    assert (item["title"], item["level"], item["link"]) == (
        "Work order WO-1 is assigned to you", "urgent", "/work-orders/1")
    stranger_client = await jimu_platform.login("stranger")
    assert (await stranger_client.get("/api/v1/notifications")).json()["unread"] == 0
    # Another person's notification is not found, not marked.
    answer = await stranger_client.post(f"/api/v1/notifications/{item['id']}/read")
    assert answer.status_code == 404

    read = await client.post(f"/api/v1/notifications/{item['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"]
    assert (await client.get("/api/v1/notifications")).json()["unread"] == 0


async def test_bad_notifications_are_refused_with_the_field(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    alice = await jimu_platform.make_user(tenant, "alice2")
    from jimu_sdk.errors import ValidationFailed

    for kwargs, field in (({"level": "loud"}, "level"), ({"link": "https://evil.example"}, "link"),
                          ({"body": "x" * 3000}, "body")):
        try:
            await send(jimu_platform, tenant, [alice], "hi", **kwargs)
        except ValidationFailed as exc:
            assert exc.field == field
        else:
            raise AssertionError(f"{kwargs} was accepted")


async def test_read_all_and_the_inbox_page(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    bob = await jimu_platform.make_user(tenant, "bob")
    for n in range(3):
        await send(jimu_platform, tenant, [bob], f"提醒 {n}", body="请处理")
    client = await jimu_platform.login("bob")
    page = await client.get("/notifications")
    assert page.status_code == 200 and "提醒 2" in page.text
    assert (await client.post("/api/v1/notifications/read-all")).json() == {"marked": 3}
    assert (await client.get("/api/v1/notifications?unread=true")).json()["items"] == []


async def test_the_stream_sends_the_count_then_what_is_new(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    carol = await jimu_platform.make_user(tenant, "carol")
    await send(jimu_platform, tenant, [carol], "旧消息")
    client = await jimu_platform.login("carol")
    # httpx's ASGI transport hands the body over when the stream ends: read it in a task and
    # send something new while it is open.
    reading = asyncio.create_task(client.get("/api/v1/notifications/stream?seconds=1.5",
                                             headers={"Accept": "text/event-stream"}))
    await asyncio.sleep(0.6)
    await send(jimu_platform, tenant, [carol], "新消息", level="urgent")
    answer = await reading
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[5:]) for line in answer.text.splitlines()
              if line.startswith("data:")]
    assert events[0] == {"unread": 1, "items": []}
    assert events[-1]["unread"] == 2
    assert [item["title"] for item in events[-1]["items"]] == ["新消息"]


async def test_the_stream_needs_a_signed_in_member(jimu_platform):
    answer = await jimu_platform.client().get("/api/v1/notifications/stream?seconds=0")
    assert answer.status_code == 401


async def test_a_client_that_is_not_an_event_source_gets_one_event(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    await jimu_platform.make_user(tenant, "dave")
    client = await jimu_platform.login("dave")
    answer = await client.get("/api/v1/notifications/stream")  # would stream for 300 s
    assert answer.status_code == 200 and answer.text.count("data:") == 1
