"""The admin page /admin/p/priority_rules/: the rules in order, add, change, delete, and try
them on a sample work order."""

from __future__ import annotations

from typing import Any

from jimu_sdk import N_, JimuError, PermissionDenied, ValidationFailed, has_permission
from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template

from jimu_priority_rules import services

BASE = "/admin/p/priority_rules"


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


def _form_data(values: dict[str, str]) -> dict[str, Any]:
    return {"name": values.get("name", ""), "condition": values.get("condition", ""),
            "priority": values.get("priority", "urgent"),
            "notify_roles": _names(values.get("notify_roles", "")),
            "notify_teams": _names(values.get("notify_teams", "")),
            "note": values.get("note", ""), "enabled": values.get("enabled") == "1",
            "position": int(values["position"]) if values.get("position", "").isdigit() else 0}


class RulePages(Controller):
    path = "/"
    include_in_schema = False

    async def _page(self, *, values: dict[str, str] | None = None, error: JimuError | None = None,
                    tried: dict[str, Any] | None = None, status: int = 200) -> Template:
        error_text = ""
        if error is not None:
            error_text = (error.message_id, error.params, error.field or "")
        return Template("priority_rules/rules.html", status_code=status, context={
            "rules": await services.list_rules(), "values": values or {}, "error": error_text,
            "can_write": has_permission("priority_rules.write"), "tried": tried,
            "teams": await services.work_orders.team_names()})

    @get("/", media_type=MediaType.HTML)
    async def rules(self, edit: int | None = None) -> Template:
        values: dict[str, str] = {}
        if edit is not None:
            row = await services.get_rule(edit)
            values = {"id": str(row["id"]), "name": row["name"],
                      "condition": row["condition"], "priority": row["priority"],
                      "notify_roles": ", ".join(row["notify_roles"]),
                      "notify_teams": ", ".join(row["notify_teams"]),
                      "position": str(row["position"]), "note": row["note"],
                      "enabled": "1" if row["enabled"] else ""}
        return await self._page(values=values)

    @post("/", media_type=MediaType.HTML)
    async def save(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        if not has_permission("priority_rules.write"):
            raise PermissionDenied("you need the permission 'priority_rules.write'")
        raw = await request.form()
        values = {k: (v.strip() if isinstance(v, str) else "") for k, v in raw.items()
                  if k != "csrf_token"}
        try:
            if values.get("delete", "").isdigit():
                await services.delete_rule(int(values["delete"]))
            elif values.get("id", "").isdigit():
                await services.update_rule(int(values["id"]), _form_data(values))
            else:
                await services.create_rule(_form_data(values))
        except JimuError as exc:
            return await self._page(values=values, error=exc,
                                    status=exc.status_code if exc.status_code < 500 else 422)
        return Redirect(f"{BASE}/?saved=1", status_code=303)

    @post("/try", media_type=MediaType.HTML)
    async def try_rules(self, request: Request[Any, Any, Any]) -> Template:
        raw = await request.form()
        values = {k: (v.strip() if isinstance(v, str) else "") for k, v in raw.items()
                  if k != "csrf_token"}
        sample = {"amount": values.get("amount") or "0", "type": values.get("type", ""),
                  "priority": values.get("priority") or "normal",
                  "customer_id": int(values["customer_id"])
                  if values.get("customer_id", "").isdigit() else None}
        try:
            if not services.MONEY.match(sample["amount"]):
                raise ValidationFailed(N_("amount must be a number such as 5000 or 5000.50"),
                                       field="amount")
            tried = await services.try_rules(sample, values.get("condition") or None)
        except JimuError as exc:
            return await self._page(values=values, error=exc, status=422)
        return await self._page(tried={**tried, "sample": values})
