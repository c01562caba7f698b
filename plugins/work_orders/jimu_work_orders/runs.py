"""The flow runtime as work orders use it: the one module that talks to core's runs.

Everything goes through ``platform()``: ``flow_run``, ``flow_action``, ``flow_steps`` (a run's
timeline), ``flow_node`` (a node of the graph a run follows: type, label, settings) and
``cancel_flow``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jimu_sdk import NotFound, platform


async def get(run_id: int) -> Mapping[str, Any]:
    return await platform().flow_run(run_id)


async def act(run_id: int, action: str, payload: Mapping[str, Any], revision: int | None
              ) -> Mapping[str, Any]:
    return await platform().flow_action(run_id, action, payload, revision=revision)


async def steps(run_id: int) -> list[Mapping[str, Any]]:
    """The run's timeline, oldest first (``seq, kind, from_node, node_id, outcome, action,
    actor_id, note, at``)."""
    return list(await platform().flow_steps(run_id))


async def node(run_id: int, node_id: str) -> dict[str, Any]:
    """``id, type, label, settings`` of a node of the run's graph (empty when it is gone)."""
    if node_id:
        try:
            found = await platform().flow_node(run_id, node_id)
        except NotFound:
            found = None
        if found is not None:
            return {"id": node_id, "type": found.get("type", ""),
                    "label": found.get("label", "") or "",
                    "settings": dict(found.get("settings") or {})}
    return {"id": node_id, "type": "", "label": "", "settings": {}}


async def cancel(run_id: int, reason: str) -> Mapping[str, Any]:
    return await platform().cancel_flow(run_id, reason=reason)


def form_fields(found: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The fields a form node asks for, as its settings keep them (``key, label, kind,
    required, choices, minimum, maximum, help``); empty for any other node."""
    if found.get("type") != "form":
        return []
    fields = found.get("settings", {}).get("fields") or []
    return [dict(field) for field in fields if isinstance(field, Mapping)]
