from tests.security.test_tenant_isolation import Walk
async def test_dbg(jimu_platform):
    walk = await Walk.start(jimu_platform)
    snap = await walk.snapshot()
    print("owned", walk.owned)
    print("page", [v[:300] for k, v in snap.items() if "admin" in k])
    n = 0
    orig = walk.b.clients
    import httpx
    counter = {"n": 0}
    async def hook(request): counter["n"] += 1
    for c in orig.values(): c.event_hooks["request"].append(hook)
    await walk.records_in_paths(); print("paths", counter); 
    await walk.lists(); print("lists", counter)
    await walk.references_in_bodies(); print("bodies", counter)
    await walk.shared_things(); print("shared", counter)
    print(walk.problems)
