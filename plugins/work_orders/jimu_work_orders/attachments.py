"""Attachments of work orders (photos, PDFs): checked against the tenant's size limit and
content-type allow-list, stored in the :mod:`~jimu_work_orders.storage` store, described by a
row. A form's photo field names them as ``work_orders:attachment:<id>``.

Deleting removes the row at once and the bytes after the transaction commits (a durable timer
runs ``work_orders.purge_attachment``), so a rolled-back delete never loses a file.
"""

from __future__ import annotations

import hashlib
import mimetypes
import unicodedata
from typing import Any

from jimu_sdk import (
    N_,
    JimuError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    current_tenant_id,
    has_permission,
    platform,
)

from jimu_work_orders import services, storage
from jimu_work_orders import settings as config
from jimu_work_orders.tables import Attachment, WorkOrder

MB = 1024 * 1024
HARD_LIMIT = 100 * MB  # the settings allow at most 100 MB
PURGE_JOB = "work_orders.purge_attachment"
# The first bytes of the types whose content is easy to tell: a file claiming one of these
# must be one (a script renamed .png is refused).
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


class PayloadTooLarge(JimuError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(JimuError):
    status_code = 415
    code = "unsupported_media_type"


def reference(attachment_id: int) -> str:
    """How a form field names an attachment."""
    return f"work_orders:attachment:{attachment_id}"


def max_bytes() -> int:
    return int(config.current().get("max_attachment_mb", 20)) * MB


def too_large(size: int | None = None) -> PayloadTooLarge:
    limit = max_bytes() // MB
    return PayloadTooLarge(N_("the file is larger than %(limit)s MB, the most this "
                              "organisation allows"), field="file", params={"limit": limit})


def clean_filename(name: str | None) -> str:
    text = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip(" .")
    if not text:
        raise ValidationFailed(N_("give the file a name, e.g. photo.jpg"), field="filename")
    if len(text) > 200:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:190] + dot + ext[:9]) if dot and len(ext) < 10 else text[:200]
    return text


def content_type_of(declared: str | None, filename: str) -> str:
    kind = (declared or "").split(";", 1)[0].strip().lower()
    if not kind or kind == "application/octet-stream":
        kind = (mimetypes.guess_type(filename)[0] or "application/octet-stream").lower()
    return kind


def _allowed(kind: str, allowed: list[str]) -> bool:
    return any(kind == a or (a.endswith("/*") and kind.startswith(a[:-1])) for a in allowed)


def check_upload(filename: str, content_type: str, data: bytes) -> None:
    if len(data) > max_bytes():
        raise too_large(len(data))
    if not data:
        raise ValidationFailed(N_("the file is empty"), field="file")
    allowed = list(config.current().get("allowed_content_types") or [])
    if not _allowed(content_type, allowed):
        raise UnsupportedMediaType(N_("%(type)s files are not accepted; allowed: %(allowed)s"),
                                   field="file",
                                   params={"type": content_type, "allowed": ", ".join(allowed)})
    magic = MAGIC.get(content_type)
    if content_type == "image/webp":
        ok = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    else:
        ok = magic is None or data.startswith(magic)
    if not ok:
        raise UnsupportedMediaType(N_("%(name)s is not a %(type)s file"), field="file",
                                   params={"name": filename, "type": content_type})


async def upload(work_order_id: int, *, filename: str | None, content_type: str | None,
                 data: bytes) -> dict[str, Any]:
    """Attach a file; 413 over the size limit, 415 for a type not allowed (or not what it
    claims to be), 422 for an empty file or a missing name."""
    row = await services.row_of(work_order_id)
    name = clean_filename(filename)
    kind = content_type_of(content_type, name)
    check_upload(name, kind, data)
    key = storage.new_key(current_tenant_id(), work_order_id)
    await storage.store_from_env().put(key, data, kind)
    attachment = await Attachment.scoped_insert(
        work_order_id=work_order_id, filename=name, content_type=kind, size=len(data),
        storage_key=key, sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=services.user_id(), created_at=services.now())
    await WorkOrder.scoped_update({WorkOrder.updated_at: services.now()}).where(
        WorkOrder.id == row["id"])
    return attachment


async def list_attachments(work_order_id: int | None = None, *, page: int = 1,
                           per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Attachments the caller may see, newest first (of one work order, or all)."""
    where: list[Any] = []
    if work_order_id is not None:
        try:
            await services.row_of(work_order_id)
        except NotFound:
            return [], 0
        where.append(Attachment.work_order_id == work_order_id)
    elif (visible := await services.visible_ids()) is not None:
        where.append(Attachment.work_order_id.is_in(visible or [-1]))
    rows = await Attachment.scoped_select().where(*where).order_by(
        Attachment.id, ascending=False).limit(per_page).offset((page - 1) * per_page)
    return rows, await Attachment.scoped_count().where(*where)


async def get_attachment(attachment_id: int) -> dict[str, Any]:
    """One attachment of a work order the caller may see; 404 otherwise."""
    row = await Attachment.scoped_select().where(Attachment.id == attachment_id).first()
    if row is None:
        raise NotFound(N_("attachment %(id)s not found"), params={"id": attachment_id})
    try:
        await services.row_of(row["work_order_id"])
    except NotFound:
        raise NotFound(N_("attachment %(id)s not found"),
                       params={"id": attachment_id}) from None
    return row


async def read(attachment_id: int) -> tuple[dict[str, Any], bytes]:
    row = await get_attachment(attachment_id)
    return row, await storage.store_from_env().get(row["storage_key"])


async def delete(attachment_id: int) -> None:
    """Remove an attachment: its uploader or someone with ``work_orders.write``."""
    row = await get_attachment(attachment_id)
    me = services.user_id()
    if me is not None and row["uploaded_by"] != me and not has_permission("work_orders.write"):
        raise PermissionDenied(N_("only whoever uploaded a file, or a dispatcher, may delete "
                                  "it"))
    await Attachment.scoped_delete().where(Attachment.id == attachment_id)
    await services.record_activity(row["work_order_id"], "attachment_deleted",
                                   changes={"filename": row["filename"]})
    await platform().schedule_at(services.now(), PURGE_JOB, {"key": row["storage_key"]},
                                 key=f"work_orders:purge:{row['storage_key']}")


async def purge(key: str) -> None:
    """The job behind a delete: remove the bytes (again is harmless)."""
    if key and not await Attachment.scoped_count().where(Attachment.storage_key == key):
        await storage.store_from_env().delete(key)
