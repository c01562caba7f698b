"""The audit log (审计日志): who changed what and when, and each change's before and after.

Rows come from ``jimu.services.users.list_audit``, the function the API calls, so the page
shows exactly the tenant's own entries. Dates typed in the filters are days in the
organisation's time zone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.response import Response, Template

from jimu.i18n import N_
from jimu.services import users as service
from jimu.services.users import AUDIT_SORTS
from jimu.web.guards import requires
from jimu.web.list_view import (
    Cell,
    Column,
    Filter,
    ListState,
    ListView,
    collect_all,
    export_format,
    export_response,
    list_page,
    options,
)
from jimu.web.listing import MAX_PER_PAGE, RecordIdParam
from jimu.web.pages_support import _, page
from jimu.web.ui import format_datetime, ui

# The actions core records; a plugin's own actions are shown by their code.
ACTION_TITLES = {
    "user.create": N_("Created a user"),
    "user.update": N_("Changed a user"),
    "user.deactivate": N_("Deactivated a user"),
    "role.create": N_("Created a role"),
    "role.update": N_("Changed a role"),
    "role.delete": N_("Deleted a role"),
    "token.create": N_("Created an API token"),
    "token.revoke": N_("Revoked an API token"),
    "plugin.enable": N_("Switched on a plugin"),
    "plugin.disable": N_("Switched off a plugin"),
    "plugin.settings": N_("Changed a plugin's settings"),
    "template.apply": N_("Applied an industry template"),
    "tenant.create": N_("Created the organisation"),
    "tenant.settings": N_("Changed the organisation's settings"),
    "tenant.suspend": N_("Suspended the organisation"),
    "tenant.resume": N_("Resumed the organisation"),
}
FILTERS = ("user", "action", "since", "until")


def action_title(action: str) -> str:
    title = ACTION_TITLES.get(action)
    return _(title) if title else action


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _day_start(day: dt.date | None, *, days_later: int = 0) -> dt.datetime | None:
    """Midnight of ``day`` (plus ``days_later``) in the organisation's time zone, as UTC."""
    if day is None:
        return None
    try:
        day += dt.timedelta(days=days_later)
    except OverflowError:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(ui().timezone)).astimezone(
        dt.UTC)


def _local(value: dt.datetime) -> dt.datetime:
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(ui().timezone))


# ------------------------------------------------------------------------------ the diff

_ABSENT = object()


@dataclass(frozen=True)
class DiffRow:
    key: str
    before: str
    after: str
    changed: bool
    before_block: bool = False
    """``True`` when the value is pretty JSON, shown preformatted."""
    after_block: bool = False


def _shown(value: Any) -> tuple[str, bool]:
    if value is _ABSENT or value is None:
        return "", False
    if isinstance(value, str):
        return value, False
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True,
                          default=str), True
    return json.dumps(value, ensure_ascii=False, default=str), False


def _row(key: str, before: Any, after: Any) -> DiffRow:
    before_text, before_block = _shown(before)
    after_text, after_block = _shown(after)
    return DiffRow(key, before_text, after_text, changed=before != after,
                   before_block=before_block, after_block=after_block)


def diff_rows(before: Any, after: Any) -> list[DiffRow]:
    """Before and after side by side: one row per key of a record, else one row."""
    if isinstance(before, dict | None) and isinstance(after, dict | None) and (before or after):
        old, new = before or {}, after or {}
        keys = [*old, *(key for key in new if key not in old)]
        return [_row(str(key), old.get(key, _ABSENT), new.get(key, _ABSENT)) for key in keys]
    if before is None and after is None:
        return []
    return [_row("", before, after)]


def changed_keys(before: Any, after: Any) -> list[str]:
    """The keys a change touched; none for a record created or deleted (all of them)."""
    if before is None or after is None:
        return []
    return [row.key for row in diff_rows(before, after) if row.changed and row.key]


def change_kind(entry: dict[str, Any]) -> str:
    if entry["before"] is None and entry["after"] is not None:
        return "created"
    if entry["after"] is None and entry["before"] is not None:
        return "deleted"
    return "changed"


# ------------------------------------------------------------------------------ the list


def _columns() -> list[Column]:
    return [Column("created_at", _("Time"), sort="created_at"), Column("user", _("Done by")),
            Column("action", _("Action"), sort="action"), Column("target", _("Target")),
            Column("changes", _("Changed fields"))]


def _cells(rows: list[dict[str, Any]]) -> list[list[Cell]]:
    return [[Cell(format_datetime(r["created_at"], "medium"), href=f"/admin/audit/{r['id']}",
                  export=_local(r["created_at"])),
             Cell(r["username"] or _("System")),
             Cell(action_title(r["action"]), export=f"{action_title(r['action'])} "
                                                    f"({r['action']})"),
             Cell(r["target"]),
             Cell(", ".join(changed_keys(r["before"], r["after"])))]
            for r in rows]


async def _user_options(current: str) -> dict[str, str]:
    rows, _total = await service.list_users(sort="username", per_page=MAX_PER_PAGE)
    names = {r["username"]: r["username"] for r in rows}
    if current and current not in names:  # someone no longer listed, e.g. an operator
        names[current] = current
    return names


@get("/admin/audit", include_in_schema=False, guards=[requires("audit.read")])
async def audit_log(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=AUDIT_SORTS, default_sort="-created_at",
                           filters=FILTERS)
    since, until = _day(state.value("since")), _day(state.value("until"))

    async def fetch(page_number: int, per_page: int) -> tuple[list[Any], int]:
        return await service.list_audit(
            user=state.value("user"), action=state.value("action"), target=state.q or None,
            since=_day_start(since), until=_day_start(until, days_later=1), sort=state.sort,
            page=page_number, per_page=per_page)

    columns = _columns()
    fmt = export_format(request)
    if fmt:
        rows, cut = await collect_all(fetch)
        return export_response(fmt, "audit", columns, _cells(rows),
                               cut=cut)
    rows, total = await fetch(state.page, state.per_page)
    actions = {action: action_title(action) for action in await service.audit_actions()}
    view = ListView(
        state=state, columns=columns, rows=_cells(rows), total=total,
        search_label=_("Target starts with, e.g. user:3"),
        empty=_("No audit entries match these filters."),
        filters=[Filter("user", _("Done by"), options(
                     await _user_options(state.filters.get("user", "")),
                     all_label=_("Everyone"))),
                 Filter("action", _("Action"), options(actions, all_label=_("All actions")))])
    return list_page(request, "core/audit.html", view, since=since.isoformat() if since else "",
                     until=until.isoformat() if until else "")


@get("/admin/audit/{entry_id:int}", include_in_schema=False, guards=[requires("audit.read")])
async def audit_entry(entry_id: RecordIdParam) -> Template:
    entry = await service.get_audit_entry(entry_id)
    return page("core/audit_entry.html", entry=entry, title=action_title(entry["action"]),
                kind=change_kind(entry), rows=diff_rows(entry["before"], entry["after"]))


ROUTES = [audit_log, audit_entry]
