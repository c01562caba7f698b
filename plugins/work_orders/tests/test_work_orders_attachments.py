"""Attachments: limits and types from the tenant's settings, download, delete (the bytes go
after the commit), and the same through a real S3 endpoint (moto's server on 127.0.0.1)."""

import socket

import pytest
from jimu_work_orders import storage
from work_orders_support import BASE, PNG, create, login, upload, world

SMALL = {"work_orders": {"max_attachment_mb": 1,
                         "allowed_content_types": ["image/*", "application/pdf"]}}


async def test_too_large_wrong_type_and_empty_files_are_refused_clearly(jimu_platform):
    here = await world(jimu_platform, config=SMALL)
    order = await create(here.admin, customer_id=here.customers["李强"])
    big = await upload(here.admin, order["id"], data=PNG + b"\x00" * (1024 * 1024))
    assert big.status_code == 413, big.text
    assert big.json()["error"] == "payload_too_large" and "1 MB" in big.json()["message"]
    html = await upload(here.admin, order["id"], data=b"<script>alert(1)</script>",
                        filename="x.html", content_type="text/html")
    assert html.status_code == 415 and "text/html" in html.json()["message"], html.text
    fake = await upload(here.admin, order["id"], data=b"MZ\x90\x00 not a picture",
                        filename="photo.png", content_type="image/png")
    assert fake.status_code == 415 and "photo.png" in fake.json()["message"], fake.text
    empty = await upload(here.admin, order["id"], data=b"")
    assert empty.status_code == 422 and empty.json()["field"] == "file", empty.text
    not_a_form = await here.admin.post(f"{BASE}/{order['id']}/attachments", json={})
    assert not_a_form.status_code == 415, not_a_form.text
    listed = (await here.admin.get(f"{BASE}/{order['id']}/attachments")).json()
    assert listed == []


async def test_an_attachment_is_downloaded_as_uploaded_and_deleted_after_commit(
        jimu_platform, run_jobs, attachment_folder):
    here = await world(jimu_platform)
    partner = await here.admin.post("/api/v1/partners", json={
        "code": "SZ-SP-01", "name": "苏州园区设备维修服务商", "kind": "service_provider"})
    assert partner.status_code == 201, partner.text
    order = await create(here.admin, customer_id=here.customers["李强"],
                         partner_id=partner.json()["id"])
    staff = await login(jimu_platform, here, "wang")
    made = await upload(staff, order["id"], filename="现场 照片.png")
    assert made.status_code == 201, made.text
    item = made.json()
    assert (item["size"], item["content_type"], item["filename"]) == (len(PNG), "image/png",
                                                                     "现场 照片.png")
    assert item["reference"] == f"work_orders:attachment:{item['id']}"
    got = await staff.get(f"{BASE}/attachments/{item['id']}")
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.png" in got.headers[
        "content-disposition"]
    files = [p for p in attachment_folder.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes() == PNG
    listed = (await here.admin.get(f"{BASE}/attachments",
                                   params={"work_order_id": order["id"]})).json()
    assert [a["id"] for a in listed["items"]] == [item["id"]]
    # The service provider sees its work order's files but deletes only its own.
    await jimu_platform.make_user(here.tenant, "sp-engineer", role="partner",
                                  partner_id=partner.json()["id"])
    engineer = await jimu_platform.login("sp-engineer")
    assert (await engineer.get(f"{BASE}/attachments/{item['id']}")).status_code == 200
    refused = await engineer.delete(f"{BASE}/attachments/{item['id']}")
    assert refused.status_code == 403, refused.text
    own = (await upload(engineer, order["id"], filename="完工.png")).json()
    assert (await engineer.delete(f"{BASE}/attachments/{own['id']}")).status_code == 204
    gone = await staff.delete(f"{BASE}/attachments/{item['id']}")
    assert gone.status_code == 204, gone.text
    assert (await staff.get(f"{BASE}/attachments/{item['id']}")).status_code == 404
    await run_jobs()
    assert [p for p in attachment_folder.rglob("*") if p.is_file()] == []


async def test_a_form_names_only_its_own_work_orders_attachments(jimu_platform):
    here = await world(jimu_platform)
    first = await create(here.admin, customer_id=here.customers["李强"])
    second = await create(here.admin, customer_id=here.customers["李强"])
    photo = (await upload(here.admin, first["id"])).json()
    borrowed = await here.admin.post(f"{BASE}/{second['id']}/actions", json={
        "action": "submit", "payload": {"fault": "x", "solution": "y",
                                        "photos": [photo["reference"]]}})
    assert borrowed.status_code == 422 and borrowed.json()["errors"][0]["field"] == "photos"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_server(monkeypatch):
    """A real S3 endpoint on 127.0.0.1 (moto's threaded server) with a bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "jimu-test", "AWS_SECRET_ACCESS_KEY": "jimu-test",
                        "JIMU_WORK_ORDERS_STORAGE": "s3",
                        "JIMU_WORK_ORDERS_S3_BUCKET": "work-orders",
                        "JIMU_WORK_ORDERS_S3_ENDPOINT": endpoint,
                        "JIMU_WORK_ORDERS_S3_REGION": "cn-north-1",
                        "JIMU_WORK_ORDERS_S3_PREFIX": "attachments"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="cn-north-1")
    client.create_bucket(Bucket="work-orders",
                         CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    yield client
    server.stop()


async def test_attachments_on_s3_go_there_and_back(jimu_platform, run_jobs, s3_server,
                                                   attachment_folder):
    here = await world(jimu_platform)
    order = await create(here.admin, customer_id=here.customers["李强"])
    made = await upload(here.admin, order["id"], data=b"%PDF-1.7 invoice",
                        filename="发票.pdf", content_type="application/pdf")
    assert made.status_code == 201, made.text
    [stored] = s3_server.list_objects_v2(Bucket="work-orders")["Contents"]
    assert stored["Key"].startswith(f"attachments/{here.tenant.id}/{order['id']}/")
    body = s3_server.get_object(Bucket="work-orders", Key=stored["Key"])
    assert body["ContentType"] == "application/pdf"
    got = await here.admin.get(f"{BASE}/attachments/{made.json()['id']}")
    assert got.status_code == 200 and got.content == b"%PDF-1.7 invoice"
    assert not attachment_folder.exists()  # nothing went to the local disk
    assert (await here.admin.delete(f"{BASE}/attachments/{made.json()['id']}")
            ).status_code == 204
    await run_jobs()
    assert s3_server.list_objects_v2(Bucket="work-orders").get("KeyCount") == 0


async def test_a_misconfigured_store_is_a_clear_refusal(jimu_platform, monkeypatch):
    here = await world(jimu_platform)
    order = await create(here.admin, customer_id=here.customers["李强"])
    monkeypatch.setenv("JIMU_WORK_ORDERS_STORAGE", "s3")
    monkeypatch.delenv("JIMU_WORK_ORDERS_S3_BUCKET", raising=False)
    refused = await upload(here.admin, order["id"])
    assert refused.status_code == 409 and "JIMU_WORK_ORDERS_S3_BUCKET" in refused.text
    monkeypatch.setenv("JIMU_WORK_ORDERS_STORAGE", "ftp")
    with pytest.raises(storage.StorageUnavailable):
        storage.store_from_env()


def test_local_keys_cannot_leave_the_folder(tmp_path):
    store = storage.LocalDiskStore(tmp_path)
    for key in ("../etc/passwd", "/abs", "a/../../b", "a//b"):
        with pytest.raises(ValueError):
            store.path(key)
    assert store.path("1/2/abc").is_relative_to(tmp_path)
