"""Where attachment bytes live: an :class:`AttachmentStore`, chosen by the operator.

- ``LocalDiskStore`` (default): files under ``$JIMU_WORK_ORDERS_DIR``, else
  ``$JIMU_DATA_DIR/attachments`` (``JIMU_DATA_DIR`` defaults to ``var``, where the SQLite
  database lives too).
- ``S3Store``: any S3-compatible object store (AWS S3, MinIO, the S3 endpoints of Aliyun OSS
  or Tencent COS) through boto3 (``pip install 'jimu-work-orders[s3]'``;
  docs/decisions/0019-boto3-for-s3-attachments.md). ``JIMU_WORK_ORDERS_STORAGE=s3``,
  ``JIMU_WORK_ORDERS_S3_BUCKET`` (required), ``JIMU_WORK_ORDERS_S3_ENDPOINT`` (empty: AWS),
  ``JIMU_WORK_ORDERS_S3_REGION``, ``JIMU_WORK_ORDERS_S3_PREFIX``; credentials come from
  boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, an instance role).

Keys are ``<tenant id>/<work order id>/<random>``: the database row says which tenant and work
order a file belongs to; the key only has to be unique and never guessable from outside.
Both stores block in threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from jimu_sdk import N_, JimuError, NotFound

KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


class StorageUnavailable(JimuError):
    """The attachment store is misconfigured or cannot be reached."""

    status_code = 409
    code = "storage_unavailable"


class AttachmentStore(Protocol):
    """Stores attachment bytes by key."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


def new_key(tenant_id: int, work_order_id: int) -> str:
    return f"{tenant_id}/{work_order_id}/{uuid.uuid4().hex}"


def _checked(key: str) -> str:
    if not KEY.match(key) or ".." in key:
        raise ValueError(f"not an attachment key: {key!r}")
    return key


class LocalDiskStore:
    """Files on a local (or mounted) disk; written whole to a temporary name, then renamed."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / _checked(key)

    def _put(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        partial.write_bytes(data)
        os.replace(partial, target)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path(key).read_bytes)
        except FileNotFoundError:
            raise NotFound(N_("the attachment's file is gone from the store")) from None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, True)


class S3Store:
    """An S3-compatible bucket, through boto3 (its client is thread-safe)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client = client
        self._endpoint_url = endpoint_url or None
        self._region = region or None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    import boto3
                    from botocore.config import Config
                except ImportError:
                    raise StorageUnavailable(N_(
                        "attachments are set to S3, but boto3 is not installed: install "
                        "jimu-work-orders[s3]")) from None
                self._client = boto3.client(
                    "s3", endpoint_url=self._endpoint_url, region_name=self._region,
                    config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                  connect_timeout=5, read_timeout=60))
            return self._client

    def _key(self, key: str) -> str:
        return self.prefix + _checked(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._call("put_object", Bucket=self.bucket, Key=self._key(key), Body=data,
                         ContentType=content_type)

    async def get(self, key: str) -> bytes:
        answer = await self._call("get_object", Bucket=self.bucket, Key=self._key(key))
        return await asyncio.to_thread(answer["Body"].read)

    async def delete(self, key: str) -> None:
        await self._call("delete_object", Bucket=self.bucket, Key=self._key(key))

    async def _call(self, method: str, **arguments: Any) -> Any:
        client = self.client()
        try:
            return await asyncio.to_thread(getattr(client, method), **arguments)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):
                raise NotFound(N_("the attachment's file is gone from the store")) from None
            if type(exc).__module__.startswith(("botocore", "boto3")):
                raise StorageUnavailable(N_("the attachment store answered: %(error)s"),
                                         params={"error": str(exc)[:300]}) from None
            raise


_stores: dict[tuple[str, ...], AttachmentStore] = {}
_stores_lock = threading.Lock()


def store_from_env(env: Mapping[str, str] | None = None) -> AttachmentStore:
    """The store the environment names (kept per configuration, so clients are reused)."""
    env = os.environ if env is None else env
    kind = env.get("JIMU_WORK_ORDERS_STORAGE", "local").strip().lower() or "local"
    if kind == "s3":
        bucket, endpoint, region, prefix = (
            env.get(f"JIMU_WORK_ORDERS_S3_{name}", "").strip()
            for name in ("BUCKET", "ENDPOINT", "REGION", "PREFIX"))
        if not bucket:
            raise StorageUnavailable(N_("attachments are set to S3 but "
                                        "JIMU_WORK_ORDERS_S3_BUCKET is empty"))
        config: tuple[str, ...] = ("s3", bucket, endpoint, region, prefix)
    elif kind == "local":
        root = env.get("JIMU_WORK_ORDERS_DIR") or str(
            Path(env.get("JIMU_DATA_DIR", "var")) / "attachments")
        config = ("local", str(Path(root).resolve()))
    else:
        raise StorageUnavailable(N_("JIMU_WORK_ORDERS_STORAGE must be local or s3, not "
                                    "%(kind)s"), params={"kind": kind})
    with _stores_lock:
        store = _stores.get(config)
        if store is None:
            store = (S3Store(bucket, endpoint_url=endpoint, region=region, prefix=prefix)
                     if kind == "s3" else LocalDiskStore(config[1]))
            _stores[config] = store
        return store
