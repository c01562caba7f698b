"""Admin pages under /admin/p/sla: the policies in match order (add, change, delete), the
working calendars (hours per weekday, holidays and make-up working days per year, China's
public holidays in one click), the open clocks nearest to breach, and the compliance report
with its charts (each followed by its data as a table).

Forms are validated by the services (the same rules as the API); a refused form comes back
with status 422 (409 for a duplicate name), the input kept and each problem beside its field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import N_, JimuError, PermissionDenied, ValidationFailed, has_permission, platform
from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template

from jimu_sla import holidays, reports, services
from jimu_sla.business_time import WEEKDAYS

BASE = "/admin/p/sla"
MAX_NAME = 100
MAX_KEY = 64
MAX_POSITION = 100_000
PER_PAGE = 50
DEFAULT_WEEKS = 12
"""The report shows the last twelve weeks unless asked for another period."""
DEFAULT_HOURS = "09:00-12:00, 13:00-18:00"
HOURS_PIECE = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")
SEPARATORS = re.compile(r"[,，;；、\s]+")
DASHES = re.compile(r"\s*[-–—~～至到]\s*")


@dataclass
class Form:
    """A form's input as typed, and its problems: ``(message id, params)`` per field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    message: tuple[str, dict[str, Any]] | None = None

    def add(self, key: str, message: str, /, **params: Any) -> None:
        self.errors.setdefault(key, (message, params))

    def refuse(self) -> None:
        """Stop with the problems found so far."""
        if self.errors:
            raise ValidationFailed(N_("please correct the fields marked below"))


def _field_of(name: str) -> str:
    """The form field a service's error names: ``weekly_hours.mon[0]`` → ``mon``,
    ``days[0].date`` → ``date``, ``priorities[1]`` → ``priorities``."""
    if name.startswith("weekly_hours."):
        return name.split(".", 1)[1].split("[")[0]
    if name.startswith("days["):
        return name.rsplit(".", 1)[-1]
    return name.split("[")[0].split(".")[0]


def _failed(form: Form, exc: JimuError) -> int:
    """Put a service's error on the form; the status the page answers with."""
    if exc.field:
        form.add(_field_of(exc.field), exc.message_id, **exc.params)
    for problem in getattr(exc, "errors", None) or []:
        name = _field_of(problem.get("field") or "")
        if name:  # already filled in: the catalog knows it when it has no parameters
            form.add(name, str(problem.get("message", "")))
    if not form.errors:
        form.message = (exc.message_id, exc.params)
    if isinstance(exc, ValidationFailed):
        return 422
    return exc.status_code if 400 <= exc.status_code < 500 else 422


def _need_admin() -> None:
    if not has_permission("sla.admin"):
        raise PermissionDenied("you need the permission 'sla.admin'")


async def _form_values(request: Request[Any, Any, Any]) -> tuple[dict[str, str], Any]:
    raw = await request.form()
    values = {k: (v.strip() if isinstance(v, str) else "") for k, v in raw.items()
              if k != "csrf_token"}
    return values, raw


def _listed(raw: Any, name: str) -> list[str]:
    return [str(v).strip() for v in raw.getall(name) if str(v).strip()] if name in raw else []


def _words(text: str) -> list[str]:
    return [part for part in SEPARATORS.split(text) if part]


def _today() -> dt.date:
    return platform().now().astimezone(ZoneInfo(platform().timezone())).date()


def _query_int(request: Request[Any, Any, Any], name: str, default: int, low: int, high: int
               ) -> int | None:
    """A whole-number query parameter, ``None`` when it is not one in ``low``…``high``."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        return None
    return int(text)


# ----------------------------------------------------------------------------- policies


def _target(form: Form, values: Mapping[str, str], prefix: str) -> int | None:
    """Hours and minutes typed in two boxes → business minutes (both empty: no target)."""
    hours, minutes = values.get(f"{prefix}_hours", ""), values.get(f"{prefix}_mins", "")
    name = f"{prefix}_minutes"
    if not hours and not minutes:
        return None
    if not (hours or "0").isdigit() or not (minutes or "0").isdigit():
        form.add(name, N_("write the target as whole hours and minutes, e.g. 2 hours 30 "
                          "minutes"))
        return 1  # a stand-in, so that the services can still judge the other fields
    total = int(hours or 0) * 60 + int(minutes or 0)
    if total < 1:
        form.add(name, N_("a target is at least 1 minute; leave both boxes empty for no "
                          "target"))
    elif total > services.MAX_TARGET_MINUTES:
        form.add(name, N_("a target is at most %(hours)s hours"),
                 hours=services.MAX_TARGET_MINUTES // 60)
    return total


def _whole(form: Form, values: Mapping[str, str], name: str, default: int | None
           ) -> int | None:
    text = values.get(name, "")
    if not text:
        return default
    if not text.isdigit():
        form.add(name, N_("give a whole number"))
        return default
    return int(text)


def _policy_in(values: dict[str, Any], raw: Any) -> tuple[Form, services.PolicyIn]:
    """The form's input as the services take it; fields the page could not read get a
    stand-in and an error on the form."""
    form = Form(values={**values, **{name: _listed(raw, name) for name in (
        "priorities", "customer_levels", "escalate_user_ids")}})
    name = values.get("name", "")
    if len(name) > MAX_NAME:
        form.add("name", N_("a name has at most %(max)s characters"), max=MAX_NAME)
    response = _target(form, values, "response")
    resolution = _target(form, values, "resolution")
    position = _whole(form, values, "position", 100)
    if position is not None and position > MAX_POSITION:
        form.add("position", N_("the order is a number from 0 to %(max)s"), max=MAX_POSITION)
    warn_percent = _whole(form, values, "warn_percent", 80)
    calendar_id = _whole(form, values, "calendar_id", None)
    team = _whole(form, values, "reassign_to_team", None)
    if team is not None and team < 1:
        form.add("reassign_to_team", N_("give the team's number, or leave it empty"))
    types, roles = _words(values.get("types", "")), _words(values.get("escalate_roles", ""))
    for key, words in (("types", types), ("escalate_roles", roles)):
        if any(len(word) > MAX_KEY for word in words):
            form.add(key, N_("each entry has at most %(max)s characters"), max=MAX_KEY)
    if len(types) > 100 or len(roles) > 20:
        form.add("types" if len(types) > 100 else "escalate_roles",
                 N_("too many entries: at most %(max)s"), max=100 if len(types) > 100 else 20)
    user_ids = [int(v) for v in form.values["escalate_user_ids"] if v.isdigit()]
    if len(user_ids) != len(form.values["escalate_user_ids"]):
        form.add("escalate_user_ids", N_("choose people from the list"))
    return form, services.PolicyIn(
        name=name, response_minutes=response, resolution_minutes=resolution,
        priorities=form.values["priorities"], customer_levels=form.values["customer_levels"],
        types=types, calendar_id=calendar_id, warn_percent=warn_percent or 0,
        position=position or 0, enabled=values.get("enabled") == "1",
        escalate_roles=roles, escalate_user_ids=user_ids,
        escalate_priority=values.get("escalate_priority") or None, reassign_to_team=team)


def _policy_values(row: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": row["name"], "position": str(row["position"]),
        "enabled": "1" if row["enabled"] else "", "priorities": list(row["priorities"]),
        "customer_levels": list(row["customer_levels"]), "types": ", ".join(row["types"]),
        "calendar_id": str(row["calendar_id"] or ""), "warn_percent": str(row["warn_percent"]),
        "escalate_roles": ", ".join(row["escalate_roles"]),
        "escalate_user_ids": [str(i) for i in row["escalate_user_ids"]],
        "escalate_priority": row["escalate_priority"] or "",
        "reassign_to_team": str(row["escalate_team_id"] or "")}
    for prefix in ("response", "resolution"):
        minutes = row[f"{prefix}_minutes"]
        values[f"{prefix}_hours"] = "" if minutes is None else str(minutes // 60)
        values[f"{prefix}_mins"] = "" if minutes is None else str(minutes % 60)
    return values


def match_order(policies: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The order the policies are tried in: the most specific first, then by position."""
    return sorted(policies, key=lambda p: (not p["enabled"], -services.specificity(p),
                                           p["position"], p["id"]))


async def _refuse_policy(form: Form, data: services.PolicyIn, policy_id: int | None) -> None:
    """A form the page could not read fully is refused with the services' verdict on the
    rest of it, so that every problem shows at once."""
    if form.errors:
        try:
            await services._check_policy(data, but=policy_id)
        except JimuError as exc:
            _failed(form, exc)
        form.refuse()


# ----------------------------------------------------------------------------- calendars


def hours_text(intervals: Sequence[Sequence[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


def hours_groups(weekly: Mapping[str, Sequence[Sequence[str]]]
                 ) -> list[tuple[int, int, str]]:
    """Runs of weekdays with the same hours: ``[(0, 4, "09:00–18:00")]`` for Mon–Fri."""
    groups: list[tuple[int, int, str]] = []
    for index, day in enumerate(WEEKDAYS):
        text = ", ".join(f"{s}–{e}" for s, e in weekly.get(day, ()))
        if not text:
            continue
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], index, text)
        else:
            groups.append((index, index, text))
    return groups


def _weekly_hours(form: Form, values: Mapping[str, str]) -> dict[str, list[list[str]]]:
    weekly: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        text = DASHES.sub("-", values.get(day, ""))
        pieces = [HOURS_PIECE.match(piece) for piece in _words(text)]
        if not all(pieces):
            form.add(day, N_("write the hours as 09:00-12:00, 13:00-18:00 (empty: closed)"))
            continue
        weekly[day] = [[m.group(1), m.group(2)] for m in pieces if m]
    return weekly


def _calendar_in(values: dict[str, str]) -> tuple[Form, services.CalendarIn]:
    """The form's input as the services take it; a weekday the page could not read is left
    closed, with an error on the form."""
    form = Form(values=values)
    name = values.get("name", "")
    if len(name) > MAX_NAME:
        form.add("name", N_("a name has at most %(max)s characters"), max=MAX_NAME)
    if len(values.get("timezone", "")) > MAX_KEY:
        form.add("timezone", N_("each entry has at most %(max)s characters"), max=MAX_KEY)
    if len(values.get("description", "")) > 2000:
        form.add("description", N_("a description has at most %(max)s characters"), max=2000)
    weekly = _weekly_hours(form, values)
    return form, services.CalendarIn(name=name, weekly_hours=weekly,
                                     timezone=values.get("timezone", ""),
                                     description=values.get("description", ""))


def _refuse_calendar(form: Form, data: services.CalendarIn) -> None:
    if form.errors:
        try:
            services._check_calendar(data)
        except JimuError as exc:
            _failed(form, exc)
        form.refuse()


def _calendar_values(row: Mapping[str, Any]) -> dict[str, str]:
    return {"name": row["name"], "timezone": row["timezone"],
            "description": row["description"],
            **{day: hours_text(row["weekly_hours"].get(day, ())) for day in WEEKDAYS}}


def _years(calendar: Mapping[str, Any], year: int) -> list[int]:
    today = _today()
    return sorted({*calendar["years"], *holidays.available_years(), today.year,
                   today.year + 1, year})


# ----------------------------------------------------------------------------- the report


def _date(form: Form, text: str, name: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        form.add(name, N_("give a date such as 2026-10-01"))
        return None


def _default_period() -> tuple[dt.date, dt.date]:
    today = _today()
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(weeks=DEFAULT_WEEKS - 1), today


class SlaPages(Controller):
    path = "/"
    include_in_schema = False

    # ------------------------------------------------------------------ policies

    @get("/", media_type=MediaType.HTML)
    async def policies(self, request: Request[Any, Any, Any]) -> Template:
        calendars = {c["id"]: c["name"] for c in await services.list_calendars()}
        policies = match_order(await services.list_policies())
        user_ids = sorted({i for p in policies for i in p["escalate_user_ids"]})
        people = {u["id"]: u["display_name"] or u["username"]
                  for u in await platform().list_users(user_ids, active_only=False)}
        policies = [{**p, "notify": [*p["escalate_roles"], *(
            people.get(i, f"#{i}") for i in p["escalate_user_ids"])]} for p in policies]
        query = request.query_params
        tried: dict[str, Any] | None = None
        if "try" in query:
            sample = {"priority": query.get("priority", "")[:16],
                      "customer_level": query.get("customer_level", "")[:32],
                      "type": query.get("type", "").strip()[:MAX_KEY]}
            found = await services.matching_policy(
                sample["priority"] or None, sample["customer_level"] or None,
                sample["type"] or None)
            tried = {"sample": sample, "policy": found}
        return Template("sla/policies.html", context={
            "policies": policies, "calendars": calendars, "tried": tried,
            "saved": query.get("saved", ""), "can_admin": has_permission("sla.admin"),
            "priorities": services.PRIORITIES, "levels": services.CUSTOMER_LEVELS})

    async def _policy_form(self, form: Form, policy_id: int | None = None, status: int = 200
                           ) -> Template:
        return Template("sla/policy_form.html", status_code=status, context={
            "form": form, "policy_id": policy_id,
            "calendars": await services.list_calendars(),
            "users": await platform().list_users(),
            "priorities": services.PRIORITIES, "levels": services.CUSTOMER_LEVELS})

    @get("/policies/new", media_type=MediaType.HTML)
    async def new_policy(self) -> Template:
        _need_admin()
        calendars = await services.list_calendars()
        return await self._policy_form(Form(values={
            "position": "100", "warn_percent": "80", "enabled": "1", "priorities": [],
            "customer_levels": [], "escalate_user_ids": [], "escalate_roles": "admin",
            "calendar_id": str(calendars[0]["id"]) if len(calendars) == 1 else ""}))

    @post("/policies/new", media_type=MediaType.HTML)
    async def create_policy(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        _need_admin()
        values, raw = await _form_values(request)
        form, data = _policy_in(values, raw)
        try:
            await _refuse_policy(form, data, None)
            await services.create_policy(data)
        except JimuError as exc:
            return await self._policy_form(form, status=_failed(form, exc))
        return Redirect(f"{BASE}/?saved=created", status_code=303)

    @get("/policies/{policy_id:int}", media_type=MediaType.HTML)
    async def edit_policy(self, policy_id: int) -> Template:
        row = await services.get_policy(policy_id)
        _need_admin()
        return await self._policy_form(Form(values=_policy_values(row)), policy_id)

    @post("/policies/{policy_id:int}", media_type=MediaType.HTML)
    async def update_policy(self, policy_id: int, request: Request[Any, Any, Any]
                            ) -> Template | Redirect:
        _need_admin()
        await services.get_policy(policy_id)
        values, raw = await _form_values(request)
        form, data = _policy_in(values, raw)
        try:
            await _refuse_policy(form, data, policy_id)
            await services.update_policy(policy_id, data)
        except JimuError as exc:
            return await self._policy_form(form, policy_id, status=_failed(form, exc))
        return Redirect(f"{BASE}/?saved=updated", status_code=303)

    @post("/policies/{policy_id:int}/delete", media_type=MediaType.HTML)
    async def delete_policy(self, policy_id: int) -> Redirect:
        _need_admin()
        await services.delete_policy(policy_id)
        return Redirect(f"{BASE}/?saved=deleted", status_code=303)

    # ------------------------------------------------------------------ calendars

    @get("/calendars", media_type=MediaType.HTML)
    async def calendars(self, request: Request[Any, Any, Any]) -> Template:
        used: dict[int, list[str]] = {}
        for policy in await services.list_policies():
            if policy["calendar_id"] is not None:
                used.setdefault(policy["calendar_id"], []).append(policy["name"])
        rows = [{**c, "groups": hours_groups(c["weekly_hours"]), "used_by": used.get(c["id"], [])}
                for c in await services.list_calendars()]
        return Template("sla/calendars.html", context={
            "calendars": rows, "saved": request.query_params.get("saved", ""),
            "can_admin": has_permission("sla.admin"), "weekdays": WEEKDAYS,
            "tenant_timezone": platform().timezone()})

    @get("/calendars/new", media_type=MediaType.HTML)
    async def new_calendar(self) -> Template:
        _need_admin()
        workday = {day: DEFAULT_HOURS for day in WEEKDAYS[:5]}
        return Template("sla/calendar_form.html", context={
            "form": Form(values={"sat": "", "sun": "", **workday}), "weekdays": WEEKDAYS,
            "tenant_timezone": platform().timezone()})

    @post("/calendars/new", media_type=MediaType.HTML)
    async def create_calendar(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        _need_admin()
        values, _raw = await _form_values(request)
        form, data = _calendar_in(values)
        try:
            _refuse_calendar(form, data)
            row = await services.create_calendar(data)
        except JimuError as exc:
            status = _failed(form, exc)
            return Template("sla/calendar_form.html", status_code=status, context={
                "form": form, "weekdays": WEEKDAYS, "tenant_timezone": platform().timezone()})
        return Redirect(f"{BASE}/calendars/{row['id']}?saved=created", status_code=303)

    async def _calendar_page(self, calendar_id: int, year: int, *, hours: Form | None = None,
                             day: Form | None = None, problem: Form | None = None,
                             saved: str = "", status: int = 200) -> Template:
        calendar = await services.get_calendar(calendar_id)
        policies = [p["name"] for p in await services.list_policies()
                    if p["calendar_id"] == calendar_id]
        return Template("sla/calendar.html", status_code=status, context={
            "calendar": calendar, "year": year, "years": _years(calendar, year),
            "days": [d for d in calendar["days"] if d["date"].year == year],
            "hours": hours or Form(values=_calendar_values(calendar)),
            "day": day or Form(values={"kind": "holiday"}), "problem": problem or Form(),
            "china_years": holidays.available_years(),
            "china_papers": holidays.china_papers(year), "policies": policies,
            "saved": saved, "can_admin": has_permission("sla.admin"), "weekdays": WEEKDAYS,
            "groups": hours_groups(calendar["weekly_hours"]),
            "tenant_timezone": platform().timezone()})

    @get("/calendars/{calendar_id:int}", media_type=MediaType.HTML)
    async def calendar(self, calendar_id: int, request: Request[Any, Any, Any]) -> Template:
        year = _query_int(request, "year", _today().year, 2000, 2100)
        if year is None:
            problem = Form()
            problem.add("year", N_("year must be between 2000 and 2100"))
            return await self._calendar_page(calendar_id, _today().year, problem=problem,
                                             status=422)
        return await self._calendar_page(calendar_id, year,
                                         saved=request.query_params.get("saved", ""))

    @post("/calendars/{calendar_id:int}", media_type=MediaType.HTML)
    async def update_calendar(self, calendar_id: int, request: Request[Any, Any, Any]
                              ) -> Template | Redirect:
        _need_admin()
        await services.get_calendar(calendar_id)
        values, _raw = await _form_values(request)
        year = int(values["year"]) if values.get("year", "").isdigit() else _today().year
        form, data = _calendar_in(values)
        try:
            _refuse_calendar(form, data)
            await services.update_calendar(calendar_id, data)
        except JimuError as exc:
            status = _failed(form, exc)
            return await self._calendar_page(calendar_id, year, hours=form, status=status)
        return Redirect(f"{BASE}/calendars/{calendar_id}?year={year}&saved=hours",
                        status_code=303)

    @post("/calendars/{calendar_id:int}/days", media_type=MediaType.HTML)
    async def add_day(self, calendar_id: int, request: Request[Any, Any, Any]
                      ) -> Template | Redirect:
        _need_admin()
        calendar = await services.get_calendar(calendar_id)
        values, _raw = await _form_values(request)
        form = Form(values=values)
        shown = int(values["year"]) if values.get("year", "").isdigit() else _today().year
        day = _date(form, values.get("date", ""), "date")
        if not values.get("date"):
            form.add("date", N_("give a date such as 2026-10-01"))
        elif day is not None and not 2000 <= day.year <= 2100:
            form.add("date", N_("year must be between 2000 and 2100"))
        if len(values.get("name", "")) > MAX_NAME:
            form.add("name", N_("a name has at most %(max)s characters"), max=MAX_NAME)
        try:
            form.refuse()
            assert day is not None
            kept = [services.DayIn(date=d["date"], kind=d["kind"], name=d["name"])
                    for d in calendar["days"] if d["date"].year == day.year
                    and d["date"] != day]
            added = services.DayIn(date=day, kind=values.get("kind", ""),
                                   name=values.get("name", ""))
            await services.set_days(calendar_id, day.year,
                                    sorted([*kept, added], key=lambda d: d.date))
        except JimuError as exc:
            status = _failed(form, exc)
            return await self._calendar_page(calendar_id, shown, day=form, status=status)
        return Redirect(f"{BASE}/calendars/{calendar_id}?year={day.year}&saved=day",
                        status_code=303)

    @post("/calendars/{calendar_id:int}/days/remove", media_type=MediaType.HTML)
    async def remove_day(self, calendar_id: int, request: Request[Any, Any, Any]
                         ) -> Template | Redirect:
        _need_admin()
        calendar = await services.get_calendar(calendar_id)
        values, _raw = await _form_values(request)
        problem = Form()
        day = _date(problem, values.get("date", ""), "date")
        if day is None:
            problem.add("date", N_("give a date such as 2026-10-01"))
            return await self._calendar_page(calendar_id, _today().year, problem=problem,
                                             status=422)
        kept = [services.DayIn(date=d["date"], kind=d["kind"], name=d["name"])
                for d in calendar["days"] if d["date"].year == day.year and d["date"] != day]
        await services.set_days(calendar_id, day.year, kept)
        return Redirect(f"{BASE}/calendars/{calendar_id}?year={day.year}&saved=removed",
                        status_code=303)

    @post("/calendars/{calendar_id:int}/china-holidays", media_type=MediaType.HTML)
    async def load_china_holidays(self, calendar_id: int, request: Request[Any, Any, Any]
                                  ) -> Template | Redirect:
        _need_admin()
        await services.get_calendar(calendar_id)
        values, _raw = await _form_values(request)
        problem = Form()
        year = int(values["year"]) if values.get("year", "").isdigit() else None
        try:
            if year is None or not 2000 <= year <= 2100:
                raise ValidationFailed(N_("year must be between 2000 and 2100"), field="year")
            await services.load_china_holidays(calendar_id, year)
        except JimuError as exc:
            status = _failed(problem, exc)
            return await self._calendar_page(calendar_id, year or _today().year,
                                             problem=problem, status=status)
        return Redirect(f"{BASE}/calendars/{calendar_id}?year={year}&saved=china",
                        status_code=303)

    @post("/calendars/{calendar_id:int}/delete", media_type=MediaType.HTML)
    async def delete_calendar(self, calendar_id: int) -> Template | Redirect:
        _need_admin()
        try:
            await services.delete_calendar(calendar_id)
        except JimuError as exc:
            if exc.status_code == 404:
                raise
            problem = Form()
            status = _failed(problem, exc)
            return await self._calendar_page(calendar_id, _today().year, problem=problem,
                                             status=status)
        return Redirect(f"{BASE}/calendars?saved=deleted", status_code=303)

    # ------------------------------------------------------------------ clocks and report

    @get("/clocks", media_type=MediaType.HTML)
    async def open_clocks(self, request: Request[Any, Any, Any]) -> Template:
        kind = request.query_params.get("kind", "all") or "all"
        page = _query_int(request, "page", 1, 1, 100_000)
        problem = Form(values={"kind": kind})
        items: list[dict[str, Any]] = []
        total = 0
        status = 200
        try:
            if page is None:
                raise ValidationFailed(N_("page must be a whole number from 1"), field="page")
            items, total = await reports.open_clocks(kind, page, PER_PAGE)
        except ValidationFailed as exc:
            status = _failed(problem, exc)
        return Template("sla/clocks.html", status_code=status, context={
            "clocks": items, "total": total, "page": page or 1, "per_page": PER_PAGE,
            "pages": max(1, -(-total // PER_PAGE)), "kind": kind, "problem": problem,
            "kinds": reports.KIND_FILTERS})

    @get("/report", media_type=MediaType.HTML)
    async def report(self, request: Request[Any, Any, Any]) -> Template:
        query = request.query_params
        default_from, default_to = _default_period()
        values = {"from": query.get("from", "").strip() or default_from.isoformat(),
                  "to": query.get("to", "").strip() or default_to.isoformat(),
                  "kind": query.get("kind", "all") or "all"}
        form = Form(values=values)
        date_from = _date(form, values["from"], "from")
        date_to = _date(form, values["to"], "to")
        weekly = by_priority = by_type = None
        status = 200
        try:
            form.refuse()
            weekly = await reports.compliance_report(date_from, date_to, "week", values["kind"])
            by_priority = await reports.compliance_report(date_from, date_to, "priority",
                                                          values["kind"])
            by_type = await reports.compliance_report(date_from, date_to, "type",
                                                      values["kind"])
        except ValidationFailed as exc:
            status = _failed(form, exc)
        weeks = [dt.date.fromisoformat(r["key"]) for r in weekly["rows"]] if weekly else []
        return Template("sla/report.html", status_code=status, context={
            "form": form, "weekly": weekly, "by_priority": by_priority, "by_type": by_type,
            "kinds": reports.KIND_FILTERS,
            "week_labels": [monday.strftime("%m-%d") for monday in weeks],
            "week_ranges": [f"{monday.isoformat()} – "
                            f"{(monday + dt.timedelta(days=6)).strftime('%m-%d')}"
                            for monday in weeks]})
