"""The workflow runtime: versioned graphs checked before publishing, runs that move through
node types from plugins, one winner of two concurrent actions, durable timers, runs moved
between versions, and runs kept (not lost) when a node type's plugin is switched off."""

import pytest

from tests.sample_plugins import simple_nodes


@pytest.fixture
def jimu_plugins():
    return [simple_nodes]


@pytest.fixture
def jimu_load_installed():
    return False


def graph(*nodes, edges=()):
    return {"nodes": [{"id": i, "type": t, "settings": s or {}} for i, t, s in nodes],
            "edges": [{"source": a, "target": b, "outcome": o} for a, b, o in edges]}


FOUR_STEPS = graph(("s", "start", None), ("t", "task", {"field": "answer"}),
                   ("c", "choice", {"cases": ["left"]}), ("e", "end", None),
                   edges=[("s", "t", "next"), ("t", "c", "next"), ("c", "e", "left"),
                          ("c", "e", "default")])


async def admin_of(platform):
    tenant = await platform.make_tenant(plugins=["simple_nodes"])
    return tenant, await platform.login(tenant.admin_username)


async def published(admin, code="repair", body=FOUR_STEPS):
    flow = (await admin.post("/api/v1/flows", json={"code": code, "name": "设备报修",
                                                    "graph": body})).json()
    answer = await admin.post(f"/api/v1/flows/{flow['id']}/versions/1/publish")
    assert answer.status_code == 200, answer.text
    return flow


async def start(admin, flow, **body):
    answer = await admin.post(f"/api/v1/flows/{flow['id']}/runs", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_publishing_names_every_problem_by_node(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    bad = graph(("s", "start", None), ("t", "task", None), ("lost", "task", None),
                ("c", "choice", {"cases": []}), ("x", "nonsense", None), ("e", "end", None),
                edges=[("s", "t", "next"), ("t", "c", "next"), ("c", "e", "default"),
                       ("t", "e", "oops")])
    flow = (await admin.post("/api/v1/flows", json={"code": "bad", "name": "坏流程",
                                                    "graph": bad})).json()
    check = (await admin.post(f"/api/v1/flows/{flow['id']}/versions/1/check")).json()
    assert not check["ok"]
    by_node = {}
    for problem in check["problems"]:
        by_node.setdefault(problem.get("node", ""), []).append(problem["message"])
    assert any("unreachable" in m for m in by_node["lost"])
    assert any("dead end" in m for m in by_node["lost"])  # and its outcome leads nowhere
    assert any("leads nowhere" in m for m in by_node["lost"])
    assert any("at least one case" in m for m in by_node["c"])
    assert any("not offered" in m for m in by_node["x"])
    assert any("'oops'" in m for m in by_node["t"])
    answer = await admin.post(f"/api/v1/flows/{flow['id']}/versions/1/publish")
    assert answer.status_code == 422
    assert {e.get("node") for e in answer.json()["errors"]} >= {"lost", "c", "x", "t"}
    # a graph that is not even a graph is refused when saved, naming the field
    answer = await admin.put(f"/api/v1/flows/{flow['id']}/draft", json={"graph": {
        "nodes": [{"id": "a b", "type": "start"}], "edges": [{"source": "a b",
                                                              "target": "nowhere"}]}})
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"graph.nodes[0].id", "graph.edges[0].target"}


async def test_a_run_goes_through_its_steps_and_leaves_a_timeline(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await start(admin, flow, subject="work_orders:7", data={"pick": "left"})
    assert (run["status"], run["node_id"], run["actions"]) == ("waiting", "t", ["done", "hold"])
    # a form without its required field: 422 naming it, and nothing moved
    answer = await admin.post(f"/api/v1/flow-runs/{run['id']}/actions",
                              json={"action": "done", "payload": {}})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "answer"
    again = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert again["revision"] == run["revision"] and again["node_id"] == "t"
    answer = await admin.post(f"/api/v1/flow-runs/{run['id']}/actions", json={
        "action": "done", "payload": {"answer": "换了滤芯"}, "revision": run["revision"]})
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert (done["status"], done["node_id"]) == ("completed", "e")
    assert done["data"]["t"] == {"answer": "换了滤芯"}
    detail = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    moves = [(s["kind"], s["node_id"], s["outcome"], s["action"]) for s in detail["steps"]]
    assert moves == [("start", "s", "", ""), ("enter", "s", "next", ""),
                     ("enter", "t", "", ""), ("action", "t", "next", "done"),
                     ("enter", "c", "left", ""), ("enter", "e", "", "")]
    assert detail["completed_at"] is not None
    flows = (await admin.get(f"/api/v1/flows/{flow['id']}")).json()
    assert flows["live_version"] == 1 and flows["versions"][0]["running"] == 0


async def test_two_people_acting_at_once_one_wins(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await start(admin, flow)
    first = await admin.post(f"/api/v1/flow-runs/{run['id']}/actions", json={
        "action": "hold", "revision": run["revision"]})
    second = await admin.post(f"/api/v1/flow-runs/{run['id']}/actions", json={
        "action": "done", "payload": {"answer": "x"}, "revision": run["revision"]})
    assert first.status_code == 200 and second.status_code == 409
    current = second.json()["run"]
    assert current["revision"] == first.json()["revision"] and current["actions"] == ["done"]
    # an action the node does not offer now: 409 naming the allowed ones
    answer = await admin.post(f"/api/v1/flow-runs/{run['id']}/actions", json={"action": "hold"})
    assert answer.status_code == 409 and answer.json()["allowed"] == ["done"]


async def test_a_new_version_leaves_running_runs_alone_until_moved(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    old = await start(admin, flow)
    v2 = graph(("s", "start", None), ("t", "task", {"field": "note"}), ("e", "end", None),
               edges=[("s", "t", "next"), ("t", "e", "next")])
    assert (await admin.put(f"/api/v1/flows/{flow['id']}/draft",
                            json={"graph": v2})).json()["version"] == 2
    assert (await admin.post(f"/api/v1/flows/{flow['id']}/versions/2/publish")
            ).status_code == 200
    versions = {v["version"]: v for v in
                (await admin.get(f"/api/v1/flows/{flow['id']}")).json()["versions"]}
    assert (versions[1]["status"], versions[1]["running"]) == ("retired", 1)
    assert versions[2]["status"] == "published"
    new = await start(admin, flow)
    assert (old["version"], new["version"]) == (1, 2)
    # the old run still follows version 1 (its task asks for "answer")
    answer = await admin.post(f"/api/v1/flow-runs/{old['id']}/actions",
                              json={"action": "hold"})
    assert answer.json()["version"] == 1
    moved = (await admin.post(f"/api/v1/flows/{flow['id']}/migrate",
                              json={"to_version": 2, "from_version": 1})).json()
    assert moved == {"moved": [old["id"]], "kept": []}
    answer = await admin.post(f"/api/v1/flow-runs/{old['id']}/actions",
                              json={"action": "done", "payload": {"note": "ok"}})
    assert answer.json()["status"] == "completed"
    # a run at a node version 1 has and version 2 lacks is kept, with why
    v3 = graph(("s", "start", None), ("other", "task", None), ("e", "end", None),
               edges=[("s", "other", "next"), ("other", "e", "next")])
    await admin.put(f"/api/v1/flows/{flow['id']}/draft", json={"graph": v3})
    await admin.post(f"/api/v1/flows/{flow['id']}/versions/3/publish")
    kept = (await admin.post(f"/api/v1/flows/{flow['id']}/migrate",
                             json={"to_version": 3})).json()
    assert kept["moved"] == [] and kept["kept"][0]["run_id"] == new["id"]
    assert "does not exist in version 3" in kept["kept"][0]["reason"]


async def test_a_wait_moves_on_when_its_timer_is_due_and_only_once(jimu_platform):
    from jimu.services.flows import timer_due

    tenant, admin = await admin_of(jimu_platform)
    body = graph(("s", "start", None), ("w", "pause", {"hours": 2}), ("e", "end", None),
                 edges=[("s", "w", "next"), ("w", "e", "next")])
    flow = await published(admin, "cool-down", body)
    run = await start(admin, flow)
    assert run["status"] == "waiting" and run["due_at"] is not None
    await jimu_platform.advance(hours=1)
    assert (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()["status"] == "waiting"
    await jimu_platform.advance(hours=1, seconds=1)
    done = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert done["status"] == "completed" and done["data"] == {"waited": True}
    steps = len(done["steps"])
    async with jimu_platform.as_tenant(tenant):  # the same timer delivered again
        await timer_due(tenant.id, run["id"], run["revision"] + 0)
        await timer_due(tenant.id, run["id"], done["revision"])
    assert len((await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()["steps"]) == steps


async def test_a_run_at_a_switched_off_node_type_is_kept_and_resumes(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await start(admin, flow)
    assert (await admin.post("/api/v1/plugins/simple_nodes/disable")).status_code == 200
    answer = await admin.post(f"/api/v1/flow-runs/{run['id']}/actions",
                              json={"action": "done", "payload": {"answer": "x"}})
    assert answer.status_code == 200
    stuck = answer.json()
    assert stuck["status"] == "stuck" and "switched off" in stuck["stuck_reason"]
    listed = (await admin.get("/api/v1/flow-runs?status=stuck")).json()
    assert [r["id"] for r in listed] == [run["id"]]
    assert (await admin.post("/api/v1/plugins/simple_nodes/enable")).status_code == 200
    resumed = (await admin.post(f"/api/v1/flow-runs/{run['id']}/actions",
                                json={"action": "resume"})).json()
    assert (resumed["status"], resumed["node_id"]) == ("waiting", "t")


async def test_a_node_type_bug_is_shown_to_the_admin_and_the_run_kept(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    body = graph(("s", "start", None), ("b", "broken", None), ("e", "end", None),
                 edges=[("s", "b", "next"), ("b", "e", "next")])
    flow = (await admin.post("/api/v1/flows", json={"code": "broken", "name": "坏",
                                                    "graph": body})).json()
    await admin.post(f"/api/v1/flows/{flow['id']}/versions/1/publish")
    run = await start(admin, flow)
    assert (run["status"], run["node_id"]) == ("stuck", "b")
    assert "not Advance or Wait" in run["stuck_reason"]
    failures = (await admin.get("/api/v1/hook-failures")).json()
    assert any(f["plugin"] == "simple_nodes" and "broken" in f["hook"]
               for f in failures["items"])


async def test_flows_of_one_tenant_are_invisible_to_another(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    flow = await published(admin)
    run = await start(admin, flow)
    _, other = await admin_of(jimu_platform)
    assert (await other.get(f"/api/v1/flows/{flow['id']}")).status_code == 404
    assert (await other.get(f"/api/v1/flow-runs/{run['id']}")).status_code == 404
    assert (await other.post(f"/api/v1/flow-runs/{run['id']}/actions",
                             json={"action": "done"})).status_code == 404
    assert (await other.get("/api/v1/flows")).json() == []


async def test_a_waiting_run_moved_to_a_new_version_keeps_its_timer(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    body = graph(("s", "start", None), ("w", "pause", {"hours": 2}), ("e", "end", None),
                 edges=[("s", "w", "next"), ("w", "e", "next")])
    flow = await published(admin, "cool-down", body)
    run = await start(admin, flow)
    await admin.put(f"/api/v1/flows/{flow['id']}/draft", json={"graph": body, "note": "v2"})
    await admin.post(f"/api/v1/flows/{flow['id']}/versions/2/publish")
    moved = (await admin.post(f"/api/v1/flows/{flow['id']}/migrate",
                              json={"to_version": 2})).json()
    assert moved["moved"] == [run["id"]]
    await jimu_platform.advance(hours=2, seconds=1)
    done = (await admin.get(f"/api/v1/flow-runs/{run['id']}")).json()
    assert (done["status"], done["version"]) == ("completed", 2)


def test_two_plugins_offering_one_node_type_key_refuse_the_second():
    from jimu.plugins import PluginRegistry
    from jimu_flow_nodes import plugin as flow_nodes

    registry = PluginRegistry()
    registry.add(simple_nodes)
    registry.add(flow_nodes)
    registry.finish_loading()
    # flow_nodes comes first by slug and keeps "start"; simple_nodes is listed as broken.
    assert "flow_nodes" in registry.plugins and "simple_nodes" not in registry.plugins
    assert "'start'" in registry.broken["simple_nodes"].error
    assert "flow_nodes offers already" in registry.broken["simple_nodes"].error
