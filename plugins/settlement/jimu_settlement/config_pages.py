"""Admin pages under /admin/p/settlement/config: what settlement is configured with — fee
schedules, split rules, rebate and share programmes, targets — and the import of opening
sales from a CSV. Each form calls the same services as the API, so a refusal names the same
field and rule; the form comes back with what was typed and the problem (4xx).

Lists are typed the way people write them: regions and categories separated by commas, one
band, fee or subsidy a line (``0-1000: 0``, ``callout | 上门费 | 50.00``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from jimu_sdk import (
    N_,
    JimuError,
    NotFound,
    ValidationFailed,
    platform,
)
from jimu_sdk.web import form_data
from litestar import Controller, MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from jimu_settlement import (
    fee_schedules,
    imports,
    periods,
    programmes,
    split_rules,
)
from jimu_settlement.pages import error_status, need_admin

BASE = "/admin/p/settlement/config"
SPLIT = re.compile(r"[,，、\s]+")
MAX_CSV_BYTES = 5 * 1024 * 1024


def words(text: Any) -> list[str]:
    return [w for w in SPLIT.split(str(text or "").strip()) if w]


def _number(text: str, field: str) -> Decimal:
    from jimu_settlement.ledger import decimal

    return decimal(text.strip(), field)


def bands_from_text(text: str) -> list[dict[str, Any]]:
    """``0-1000: 0`` a line; ``5000-: 2`` is open-ended."""
    bands = []
    for index, line in enumerate(x for x in str(text or "").splitlines() if x.strip()):
        field = f"bands[{index}]"
        match = re.fullmatch(r"\s*([\d.]+)\s*[-–~]\s*([\d.]*)\s*[:：]\s*([\d.]+)\s*", line)
        if match is None:
            raise ValidationFailed(N_("write a band as from-to: rate, e.g. 1000-5000: 1 "
                                      "(leave \"to\" empty for the last band)"), field=field)
        low, high, rate = match.groups()
        bands.append({"min": _number(low, field), "max": _number(high, field) if high else None,
                      "rate": _number(rate, field)})
    return bands


def bands_to_text(bands: list[dict[str, Any]]) -> str:
    def plain(value: Any) -> str:
        return "" if value is None else format(Decimal(str(value)).normalize(), "f")

    return "\n".join(f"{plain(b['min'])}-{plain(b.get('max'))}: {plain(b['rate'])}"
                     for b in bands)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|")]


def fees_from_text(text: str) -> list[dict[str, Any]]:
    """``key | name | 50.00`` (a fixed amount) or ``key | name | SKU`` (an item) a line."""
    fees = []
    for index, line in enumerate(x for x in str(text or "").splitlines() if x.strip()):
        cells = _cells(line)
        if len(cells) != 3:
            raise ValidationFailed(N_("write a fee as key | name | amount or item SKU"),
                                   field=f"fees[{index}]")
        key, name, what = cells
        if re.fullmatch(r"\d+(\.\d+)?", what):
            fees.append({"key": key, "name": name, "item": "", "amount": Decimal(what)})
        else:
            fees.append({"key": key, "name": name, "item": what, "amount": None})
    return fees


def fees_to_text(fees: list[dict[str, Any]]) -> str:
    return "\n".join(f"{f['key']} | {f['name']} | {f.get('item') or f.get('amount')}"
                     for f in fees)


def subsidies_from_text(text: str) -> list[dict[str, Any]]:
    """``key | name | amount | installer or dealer | regions (optional)`` a line."""
    subsidies = []
    for index, line in enumerate(x for x in str(text or "").splitlines() if x.strip()):
        cells = _cells(line)
        if len(cells) not in (4, 5):
            raise ValidationFailed(N_("write a subsidy as key | name | amount | installer or "
                                      "dealer | regions"), field=f"subsidies[{index}]")
        subsidies.append({"key": cells[0], "name": cells[1],
                          "amount": _number(cells[2], f"subsidies[{index}].amount"),
                          "to": cells[3], "region_codes": words(cells[4]) if len(cells) > 4
                          else []})
    return subsidies


def subsidies_to_text(subsidies: list[dict[str, Any]]) -> str:
    return "\n".join(f"{s['key']} | {s['name']} | {s['amount']} | {s['to']} | "
                     f"{', '.join(s.get('region_codes') or [])}" for s in subsidies)


def _optional_number(text: Any, field: str) -> Decimal | None:
    text = str(text or "").strip()
    return _number(text, field) if text else None


def rule_values(data: dict[str, Any], code: str | None = None) -> dict[str, Any]:
    return {"code": code or str(data.get("code", "")).strip(),
            "name": str(data.get("name", "")).strip(),
            "component": str(data.get("component", "")).strip(),
            "role": str(data.get("role", "")), "basis": str(data.get("basis", "percent")),
            "value": _number(str(data.get("value", "")), "value"),
            "work_order_types": words(data.get("work_order_types")),
            "region_codes": words(data.get("region_codes")),
            "partner_kinds": words(data.get("partner_kinds")),
            "enabled": data.get("enabled") == "on"}


def programme_values(data: dict[str, Any], code: str | None = None) -> dict[str, Any]:
    return {"code": code or str(data.get("code", "")).strip(),
            "name": str(data.get("name", "")).strip(), "kind": str(data.get("kind", "")),
            "metric": str(data.get("metric", "quantity")),
            "mode": str(data.get("mode", "whole")), "unit": str(data.get("unit", "")).strip(),
            "bands": bands_from_text(str(data.get("bands", ""))),
            "share_pct": _optional_number(data.get("share_pct"), "share_pct"),
            "per_order": _optional_number(data.get("per_order"), "per_order"),
            "categories": words(data.get("categories")), "items": words(data.get("items")),
            "region_codes": words(data.get("region_codes")),
            "partner_kinds": words(data.get("partner_kinds")),
            "partner_levels": words(data.get("partner_levels")),
            "partner_codes": words(data.get("partner_codes")),
            "valid_from": str(data.get("valid_from", "")).strip(),
            "valid_to": str(data.get("valid_to", "")).strip(),
            "enabled": data.get("enabled") == "on",
            "description": str(data.get("description", "")).strip()}


def schedule_values(data: dict[str, Any]) -> dict[str, Any]:
    return {"work_order_type": str(data.get("work_order_type", "")).strip(),
            "labour_item": str(data.get("labour_item", "")).strip(),
            "hours_field": str(data.get("hours_field", "")).strip() or "labour_hours",
            "price_parts": data.get("price_parts") == "on",
            "fees": fees_from_text(str(data.get("fees", ""))),
            "subsidies": subsidies_from_text(str(data.get("subsidies", ""))),
            "note": str(data.get("note", "")).strip()}


class SettlementConfigPages(Controller):
    path = "/config"
    include_in_schema = False

    async def _overview(self, request: Request[Any, Any, Any], *,
                        error: JimuError | None = None, form: str = "",
                        values: dict[str, Any] | None = None) -> Template:
        period = request.query_params.get("period", "")[:7] or periods.code_of(
            periods.local_today())
        try:
            targets = await programmes.list_targets(period)
        except JimuError:
            period, targets = periods.code_of(periods.local_today()), []
        ids = [t["partner_id"] for t in targets if t["partner_id"] is not None]
        partners = {p["id"]: p for p in await platform().list_partners(ids)} if ids else {}
        for target in targets:
            partner = partners.get(target["partner_id"])
            target["who"] = f"{partner['name']} ({partner['code']})" if partner else (
                " ".join(r["name"] for r in platform().region_path(target["region_code"]))
                or target["region_code"])
        return Template("settlement/config.html",
                        status_code=error_status(error) if error else 200, context={
                            "schedules": await fee_schedules.list_schedules(),
                            "rules": await split_rules.list_rules(),
                            "programmes": await programmes.list_programmes(),
                            "targets": targets, "period": period,
                            "batches": await imports.list_batches(),
                            "done": request.query_params.get("done", "")[:40],
                            "error": error, "form": form, "values": values or {},
                            "columns": imports.COLUMNS})

    @get("/", media_type=MediaType.HTML)
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        need_admin()
        return await self._overview(request)

    # ------------------------------------------------------------------ one record's form

    async def _form(self, kind: str, *, record: dict[str, Any] | None, error: JimuError |
                    None = None, typed: dict[str, Any] | None = None) -> Template:
        return Template(f"settlement/config_{kind}.html",
                        status_code=error_status(error) if error else 200, context={
                            "record": record, "typed": typed, "error": error,
                            "bands_text": bands_to_text(record["bands"])
                            if record and kind == "programme" else "",
                            "fees_text": fees_to_text(record["fees"])
                            if record and kind == "schedule" else "",
                            "subsidies_text": subsidies_to_text(record["subsidies"])
                            if record and kind == "schedule" else "",
                            "roles": split_rules.ROLES, "bases": split_rules.BASES,
                            "kinds": programmes.KINDS, "modes": programmes.MODES,
                            "metrics": programmes.METRICS})

    @get("/split-rules/new", media_type=MediaType.HTML)
    async def new_rule(self) -> Template:
        need_admin()
        return await self._form("rule", record=None)

    @get("/split-rules/{rule_code:str}", media_type=MediaType.HTML)
    async def edit_rule(self, rule_code: str) -> Template:
        need_admin()
        return await self._form("rule", record=await split_rules.get_rule(rule_code[:40]))

    @post("/split-rules", media_type=MediaType.HTML)
    async def save_rule(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        need_admin()
        data = await form_data(request)
        existing = str(data.get("existing", ""))[:40]
        try:
            if existing:
                await split_rules.get_rule(existing)
                await split_rules.update_rule(existing, rule_values(data, existing))
            else:
                await split_rules.create_rule(rule_values(data))
        except NotFound:
            raise
        except JimuError as exc:
            record = await split_rules.get_rule(existing) if existing else None
            return await self._form("rule", record=record, error=exc, typed=data)
        return Redirect(f"{BASE}/?done=rule", status_code=303)

    @post("/split-rules/{rule_code:str}/delete", media_type=MediaType.HTML)
    async def delete_rule(self, rule_code: str) -> Redirect:
        need_admin()
        await split_rules.delete_rule(rule_code[:40])
        return Redirect(f"{BASE}/?done=deleted", status_code=303)

    @get("/programmes/new", media_type=MediaType.HTML)
    async def new_programme(self) -> Template:
        need_admin()
        return await self._form("programme", record=None)

    @get("/programmes/{programme_code:str}", media_type=MediaType.HTML)
    async def edit_programme(self, programme_code: str) -> Template:
        need_admin()
        return await self._form("programme",
                                record=await programmes.get_programme(programme_code[:40]))

    @post("/programmes", media_type=MediaType.HTML)
    async def save_programme(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        need_admin()
        data = await form_data(request)
        existing = str(data.get("existing", ""))[:40]
        try:
            if existing:
                await programmes.get_programme(existing)
                await programmes.update_programme(existing, programme_values(data, existing))
            else:
                await programmes.create_programme(programme_values(data))
        except NotFound:
            raise
        except JimuError as exc:
            record = await programmes.get_programme(existing) if existing else None
            return await self._form("programme", record=record, error=exc, typed=data)
        return Redirect(f"{BASE}/?done=programme", status_code=303)

    @post("/programmes/{programme_code:str}/delete", media_type=MediaType.HTML)
    async def delete_programme(self, request: Request[Any, Any, Any], programme_code: str
                               ) -> Template | Redirect:
        need_admin()
        try:
            await programmes.delete_programme(programme_code[:40])
        except NotFound:
            raise
        except JimuError as exc:
            return await self._overview(request, error=exc)
        return Redirect(f"{BASE}/?done=deleted", status_code=303)

    @get("/fee-schedule", media_type=MediaType.HTML)
    async def edit_schedule(self, request: Request[Any, Any, Any]) -> Template:
        need_admin()
        kind = request.query_params.get("type", "")[:40]
        record = None
        if "type" in request.query_params:
            record = await fee_schedules.get_schedule(kind)
        return await self._form("schedule", record=record)

    @post("/fee-schedule", media_type=MediaType.HTML)
    async def save_schedule(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        need_admin()
        data = await form_data(request)
        creating = data.get("existing") is None
        try:
            values = schedule_values(data)
            await fee_schedules.save_schedule(values["work_order_type"], values,
                                              create=creating)
        except JimuError as exc:
            return await self._form("schedule", record=None, error=exc, typed=data)
        return Redirect(f"{BASE}/?done=schedule", status_code=303)

    # ------------------------------------------------------------------ targets and imports

    @post("/targets", media_type=MediaType.HTML)
    async def set_target(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        need_admin()
        data = await form_data(request)
        period = str(data.get("period", ""))[:7]
        try:
            partner = str(data.get("partner_code", "")).strip()
            partner_id = None
            if partner:
                found = [p for p in await platform().list_partners() if p["code"] == partner]
                if not found:
                    raise ValidationFailed(N_("there is no partner with the code %(code)s"),
                                           field="partner_code", params={"code": partner[:40]})
                partner_id = found[0]["id"]
            await programmes.set_target(
                period=periods.check_code(period), metric=str(data.get("metric", "")),
                value=str(data.get("value", "")), partner_id=partner_id,
                region_code=str(data.get("region_code", "")).strip())
        except JimuError as exc:
            return await self._overview(request, error=exc, form="target", values=data)
        return Redirect(f"{BASE}/?done=target&period={period}", status_code=303)

    @post("/imports", media_type=MediaType.HTML)
    async def upload(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        need_admin()
        form = await request.form()
        file = form.get("file")
        try:
            if not isinstance(file, UploadFile) or not file.filename:
                raise ValidationFailed(N_("choose a CSV file"), field="file")
            content = await file.read()
            if len(content) > MAX_CSV_BYTES:
                raise ValidationFailed(N_("the file is larger than 5 MB"), field="file")
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = content.decode("gb18030", errors="strict")
            rows = imports.rows_from_csv(text)
            label = str(form.get("label") or file.filename)[:100]
            await imports.import_sales(label, rows)
        except UnicodeDecodeError:
            error = ValidationFailed(N_("the file is not UTF-8 or GB18030 text"), field="file")
            return await self._overview(request, error=error, form="import")
        except JimuError as exc:
            return await self._overview(request, error=exc, form="import")
        return Redirect(f"{BASE}/?done=imported", status_code=303)
