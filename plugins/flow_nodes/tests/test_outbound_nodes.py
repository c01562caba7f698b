"""Notify and webhook nodes: people told in-app (by id, role, or named in the run's data), the
customer's message handed to staff while no channel plugin is on, and a signed webhook retried
on a durable timer until it is delivered or gives up; a webhook never calls an internal address
the tenant's admin did not allow (the local test receivers are allowed through the setting)."""

import hashlib
import hmac
import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from jimu_flow_nodes import outbound
from jimu_flow_nodes.outbound import fill, internal_kind, signature
from test_flow_nodes import flow

SECRET = "s3cret-s3cret-s3cret"


def test_placeholders_are_plain_lookups():
    data = {"number": "WO-1", "claim": {"amount": "5000.00"}, "x": None}
    assert fill("工单 {{number}}：{{ claim.amount }} 元{{x}}{{missing.deep}}", data) == \
        "工单 WO-1：5000.00 元"
    assert fill("{{__class__}}{0.__class__}", data) == "{0.__class__}"


async def test_notify_tells_people_by_id_role_and_run_data(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    named = await jimu_platform.make_user(tenant, f"{tenant.slug}-named")
    by_role = await jimu_platform.make_user(tenant, f"{tenant.slug}-svc", role="staff")
    in_data = await jimu_platform.make_user(tenant, f"{tenant.slug}-eng")
    settings = {"title": "工单 {{number}} 已完成", "body": "金额 {{amount}}", "level": "urgent",
                "users": [named], "roles": ["staff"], "data_fields": ["assignee_id"],
                "customer": True, "link": "/work-orders/{{id}}"}
    graph = flow({"id": "n", "type": "notify", "settings": settings},
                 edges=[("s", "n", "next"), ("n", "ok", "next")])
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "no"]
    admin = await jimu_platform.login(tenant.admin_username)
    flow_id = (await admin.post("/api/v1/flows", json={
        "code": "tell", "name": "通知", "graph": graph, "publish": True})).json()["id"]
    run = (await admin.post(f"/api/v1/flows/{flow_id}/runs", json={"data": {
        "number": "WO-7", "amount": "88.00", "assignee_id": in_data, "id": 7}})).json()
    assert run["status"] == "completed"
    assert run["data"]["n"] == {"notified": 3}
    for user in (named, by_role, in_data):
        client = await jimu_platform.login(
            {named: "named", by_role: "svc", in_data: "eng"}[user].join(
                (f"{tenant.slug}-", "")))
        [item] = (await client.get("/api/v1/notifications")).json()["items"]
        assert item["title"] == "工单 WO-7 已完成"
        assert item["body"].startswith("金额 88.00\n请转告客户")
        assert (item["level"], item["link"]) == ("urgent", "/work-orders/7")
    steps = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()["steps"]
    assert any("customer message handed to staff" in s["note"] for s in steps)


async def test_notify_without_anyone_to_tell_is_refused_at_publish(jimu_platform):
    graph = flow({"id": "n", "type": "notify", "settings": {"title": "x"}},
                 edges=[("s", "n", "next"), ("n", "ok", "next")])
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "no"]
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    answer = await admin.post("/api/v1/flows", json={"code": "x", "name": "x", "graph": graph,
                                                     "publish": True})
    assert answer.status_code == 422
    assert "name who is told" in answer.text


class Receiver:
    """A real HTTP server on localhost answering each POST with the next planned status."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for one in made:
        one.close()


def webhook_flow(url, attempts=3):
    graph = flow({"id": "w", "type": "webhook", "settings": {
        "url": url, "secret": SECRET, "fields": ["number"], "attempts": attempts}},
        edges=[("s", "w", "next"), ("w", "ok", "delivered"), ("w", "no", "failed")])
    return graph


async def allow(admin, *entries):
    answer = await admin.put("/api/v1/plugins/flow_nodes/settings",
                             json={"webhook_allowed_hosts": list(entries)})
    assert answer.status_code == 200, answer.text


async def start(jimu_platform, graph, allowed=("127.0.0.1",)):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    await allow(admin, *allowed)  # the receivers listen on 127.0.0.1
    answer = await admin.post("/api/v1/flows", json={
        "code": "hook", "name": "回调", "graph": graph, "publish": True})
    assert answer.status_code == 201, answer.text
    flow_id = answer.json()["id"]
    run = (await admin.post(f"/api/v1/flows/{flow_id}/runs",
                            json={"data": {"number": "WO-9", "secret_note": "x"}})).json()
    return admin, run


async def test_a_webhook_is_signed_and_retried_until_delivered(jimu_platform, receiver):
    hook = receiver([503])
    admin, run = await start(jimu_platform, webhook_flow(hook.url))
    assert run["status"] == "waiting"  # sent from the timer, outside the moving transaction
    await jimu_platform.run_jobs()
    assert len(hook.received) == 1  # 503: tried again in a minute
    state = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert state["status"] == "waiting"
    await jimu_platform.advance(minutes=2)
    done = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert (done["status"], done["node_id"]) == ("completed", "ok")
    assert done["data"]["w"] == {"delivered": True, "attempts": 2}
    first, second = hook.received
    assert first[0]["x-jimu-delivery"] == second[0]["x-jimu-delivery"]  # receivers dedupe
    headers, body = second
    stamp = headers["x-jimu-signature"].split(",")[0][2:]
    assert headers["x-jimu-signature"] == signature(SECRET, stamp, body)
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert headers["x-jimu-signature"].endswith(expected.hexdigest())
    sent = json.loads(body)
    assert sent["data"] == {"number": "WO-9"} and sent["run_id"] == run["id"]


async def test_a_webhook_gives_up_by_its_failed_edge(jimu_platform, receiver):
    hook = receiver([500, 500])
    admin, run = await start(jimu_platform, webhook_flow(hook.url, attempts=2))
    await jimu_platform.run_jobs()
    await jimu_platform.advance(minutes=2)
    done = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert (done["status"], done["node_id"]) == ("completed", "no")
    assert done["data"]["w"] == {"delivered": False, "attempts": 2, "error": "HTTP 500"}


async def test_a_webhook_url_must_be_http(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    answer = await admin.post("/api/v1/flows", json={
        "code": "bad", "name": "x", "graph": webhook_flow("file:///etc/passwd"),
        "publish": True})
    assert answer.status_code == 422 and "URL must start with https://" in answer.text


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.9", "private"),
    ("172.16.5.5", "private"), ("169.254.169.254", "link-local"), ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"), ("100.64.0.1", "non-public"), ("240.0.0.1", "reserved"),
    ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"),
    ("fd00::5", "private"), ("ff02::1", "multicast"), ("::ffff:10.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("93.184.216.34", None), ("2606:4700::1111", None)])
def test_internal_addresses_are_told_apart_from_public_ones(address, kind):
    assert internal_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "https://[::1]/hook",
                                 "http://169.254.169.254/latest/meta-data",
                                 "http://10.0.0.7/erp", "http://localhost:9000/"])
async def test_a_webhook_to_an_internal_address_is_refused_at_publish(jimu_platform, url):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    answer = await admin.post("/api/v1/flows", json={
        "code": "inside", "name": "x", "graph": webhook_flow(url), "publish": True})
    assert answer.status_code == 422
    [problem] = answer.json()["errors"]
    assert problem["node"] == "w" and problem["message"].startswith("url: ")
    assert "address" in problem["message"] and "settings" in problem["message"]


async def test_the_allow_list_takes_hosts_addresses_and_networks_only(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    await allow(admin, "erp.intranet.example", "10.0.5.0/24", "fd00::/8", "127.0.0.1")
    answer = await admin.put("/api/v1/plugins/flow_nodes/settings",
                             json={"webhook_allowed_hosts": ["10.0.0.0/33"]})
    assert answer.status_code == 422 and "webhook_allowed_hosts" in answer.text
    saved = (await admin.get("/api/v1/plugins/flow_nodes/settings")).json()
    assert saved["webhook_allowed_hosts"][1] == "10.0.5.0/24"


async def test_a_host_resolving_to_a_private_address_is_refused_when_sent(
        jimu_platform, receiver, monkeypatch):
    hook = receiver()
    asked = []

    async def resolve(host, port):
        asked.append((host, port))
        return ["10.20.30.40"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    admin, run = await start(jimu_platform, webhook_flow("https://erp.example.com/hook"))
    await jimu_platform.run_jobs()
    done = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert asked == [("erp.example.com", 443)]
    assert (done["status"], done["node_id"]) == ("completed", "no")  # failed, not retried
    error = done["data"]["w"]["error"]
    assert error.startswith("refused: erp.example.com (10.20.30.40) is a private address")
    assert done["data"]["w"]["attempts"] == 1
    assert any(s["note"].startswith("webhook refused: erp.example.com") for s in done["steps"])
    assert not hook.received


async def test_an_allowed_network_lets_a_webhook_through_to_the_checked_address(
        jimu_platform, receiver, monkeypatch):
    hook = receiver()
    port = hook.server.server_port

    async def resolve(host, port):
        return ["127.0.0.1"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    admin, run = await start(jimu_platform, webhook_flow(f"http://erp.example.com:{port}/in"),
                             allowed=("127.0.0.0/8",))
    await jimu_platform.run_jobs()
    done = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert (done["status"], done["node_id"]) == ("completed", "ok")
    [(headers, body)] = hook.received
    assert headers["host"] == f"erp.example.com:{port}"  # sent to the address checked
    assert json.loads(body)["data"] == {"number": "WO-9"}


async def test_approvers_are_told_when_it_is_their_turn(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes"])
    first = await jimu_platform.make_user(tenant, f"{tenant.slug}-first")
    second = await jimu_platform.make_user(tenant, f"{tenant.slug}-second")
    graph = flow({"id": "a", "type": "approval", "label": "经理审批",
                  "settings": {"approvers": [first, second], "mode": "sequence"}},
                 edges=[("s", "a", "next"), ("a", "ok", "approved"), ("a", "no", "rejected")])
    admin = await jimu_platform.login(tenant.admin_username)
    flow_id = (await admin.post("/api/v1/flows", json={
        "code": "seq", "name": "审批", "graph": graph, "publish": True})).json()["id"]
    run = (await admin.post(f"/api/v1/flows/{flow_id}/runs", json={})).json()
    one = await jimu_platform.login(f"{tenant.slug}-first")
    two = await jimu_platform.login(f"{tenant.slug}-second")
    assert (await two.get("/api/v1/notifications")).json()["unread"] == 0  # not yet
    [asked] = (await one.get("/api/v1/notifications")).json()["items"]
    assert asked["title"] == "待你审批：经理审批" and asked["link"] == f"/flow-runs/{run['id']}"
    await one.post(f"/api/v1/flow-runs/{run['id']}/actions", json={"action": "approve"})
    assert (await two.get("/api/v1/notifications")).json()["unread"] == 1
