"""The plugin's per-tenant settings: work order types (each runs a flow), attachment limits."""

from __future__ import annotations

from typing import Annotated

import msgspec
from jimu_sdk import N_, platform

from jimu_work_orders.presets import DEFAULT_TYPES

SLUG = "work_orders"
TypeKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FlowCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]
NodeId = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
ContentType = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9*][a-z0-9.+*-]*$",
                                          max_length=100)]

DEFAULT_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic",
                         "application/pdf", "text/plain", "video/mp4"]


class WorkOrderType(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Annotated[TypeKey, msgspec.Meta(
        title=N_("Key"), description=N_("Lower-case letters, digits and '_', e.g. repair"))]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=100, title=N_("Title"))]
    flow: Annotated[FlowCode, msgspec.Meta(
        title=N_("Flow code"),
        description=N_("The flow a new work order of this type runs (its live version)"))]
    customer_steps: Annotated[list[NodeId], msgspec.Meta(
        max_length=20, title=N_("Steps that wait for the customer"),
        description=N_("Node ids of the flow; a work order waiting there reads as "
                       "waiting for the customer"))] = []


def _default_types() -> list[WorkOrderType]:
    return [msgspec.convert(t, WorkOrderType) for t in DEFAULT_TYPES]


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    types: Annotated[list[WorkOrderType], msgspec.Meta(
        min_length=1, max_length=50, title=N_("Work order types"),
        description=N_("Each type runs a flow; keys must differ"))] = (
        msgspec.field(default_factory=_default_types))
    max_attachment_mb: Annotated[int, msgspec.Meta(
        ge=1, le=100, title=N_("Largest attachment (MB)"),
        description=N_("Bigger uploads are refused"))] = 20
    allowed_content_types: Annotated[list[ContentType], msgspec.Meta(
        min_length=1, max_length=50, title=N_("Attachment types allowed"),
        description=N_("Content types such as image/jpeg or application/pdf; image/* allows "
                       "every image type"))] = msgspec.field(
        default_factory=lambda: list(DEFAULT_CONTENT_TYPES))

    def __post_init__(self) -> None:
        keys = [t.key for t in self.types]
        if len(set(keys)) != len(keys):
            raise ValueError("two work order types have the same key")


def current() -> dict:
    """This tenant's validated settings, defaults filled in."""
    return dict(platform().settings(SLUG))


def types() -> dict[str, dict]:
    """The tenant's work order types by key."""
    return {t["key"]: dict(t) for t in current().get("types") or []}
