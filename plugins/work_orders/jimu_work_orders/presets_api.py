"""Routes under /api/v1/work_orders/presets: the preset flows (repair, returns, complaint,
pre-sales) and installing one, or a copy of one under a code of its own, to adapt in the flow
designer. The rules live in :mod:`jimu_work_orders.presets`."""

from __future__ import annotations

from typing import Annotated

import msgspec
from jimu_sdk.web import needs
from litestar import Controller, get, post
from litestar.status_codes import HTTP_201_CREATED

from jimu_work_orders import presets


class PresetStepOut(msgspec.Struct):
    node_id: str
    title: dict[str, str]
    tells_customer: bool


class PresetOut(msgspec.Struct):
    code: str
    name: dict[str, str]
    description: dict[str, str]
    type: str
    type_title: str
    customer_steps: list[str]
    steps: list[PresetStepOut]
    node_count: int
    parts: bool
    response_minutes: int | None
    resolution_minutes: int | None
    installed: bool
    flow_id: int | None
    designer_url: str | None
    used_by: list[str]


class InstallIn(msgspec.Struct, forbid_unknown_fields=True):
    """Both optional: without ``code`` the preset installs under its own code."""

    code: Annotated[str, msgspec.Meta(max_length=63)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class InstalledOut(msgspec.Struct):
    preset: str
    flow_id: int
    code: str
    name: str
    live_version: int | None
    designer_url: str
    node_count: int
    parts: bool
    types_added: list[str]
    types_missing: list[str]


class PresetsController(Controller):
    path = "/presets"

    @get("/", guards=needs("work_orders.read"),
         summary="The preset flows: steps, forms' node count, SLA, and whether installed")
    async def list_presets(self) -> list[PresetOut]:
        return [msgspec.convert(p, PresetOut) for p in await presets.list_presets()]

    @post("/{preset_code:str}/install", status_code=HTTP_201_CREATED,
          guards=needs("work_orders.admin", "flows.write"),
          summary="Install a preset flow (published; adapt it in the flow designer), or a copy "
                  "under another code; adds its work order type when missing. 409 when the "
                  "code is taken")
    async def install(self, preset_code: str, data: InstallIn | None = None) -> InstalledOut:
        body = data or InstallIn()
        return InstalledOut(**await presets.install(preset_code, code=body.code,
                                                    name=body.name))
