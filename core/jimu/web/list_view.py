"""List pages: search, filters, sorting, pagination and CSV/XLSX export, the same on every page.

A page handler reads a ``ListState`` from the query string, asks its service for one page of
rows, turns each row into ``Cell``s and returns ``list_page(...)``. The template includes
``core/list_results.html``; an htmx request (typing in the search box, changing a filter,
clicking a header or a page number) gets only that part back, so the list updates in place while
the address bar keeps a link to exactly what is shown. ``?export=csv|xlsx`` answers the whole
filtered list as a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from litestar import Request, Response
from litestar.response import Template

from jimu.i18n import gettext
from jimu.web.listing import MAX_PER_PAGE

EXPORT_LIMIT = 50_000
"""Rows in one export at most; the file says so in its last row when it was cut."""
PER_PAGE_CHOICES = (20, 50, 100, 200)
RESULTS_TEMPLATE = "core/list_results.html"
# A CSV cell that a spreadsheet would run as a formula (CSV injection); a signed number such
# as a phone number "+86138…" is left alone.
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?![\d ()-]*$))")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    sort: str | None = None
    """The service's sort key when the column can be sorted."""
    numeric: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    badge: str | None = None
    """A CSS modifier (``ok``, ``warn``, ``muted`` …) to show the text as a badge."""
    export: Any = None
    """The value written to CSV/XLSX when it differs from ``text`` (a number, a date)."""


@dataclass(frozen=True)
class Filter:
    name: str
    title: str
    options: Sequence[tuple[str, str]]
    """``(value, label)``; the first one is usually ``("", "All")``."""


@dataclass
class ListState:
    """What the user asked to see, read leniently from the query string: a value the page does
    not offer falls back to its default instead of failing."""

    path: str
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = ""
    page: int = 1
    per_page: int = 50

    @classmethod
    def read(cls, request: Request, *, sorts: Sequence[str], default_sort: str,
             filters: Sequence[str] = ()) -> ListState:
        params = request.query_params
        sort = params.get("sort") or default_sort
        if sort.lstrip("-") not in sorts:
            sort = default_sort
        return cls(path=request.url.path, q=(params.get("q") or "").strip()[:100],
                   filters={name: (params.get(name) or "").strip()[:100] for name in filters},
                   sort=sort, page=_int(params.get("page"), 1, 1, 1_000_000),
                   per_page=_int(params.get("per_page"), 50, 1, MAX_PER_PAGE))

    def value(self, name: str) -> str | None:
        """A filter's value, ``None`` when it is not set."""
        return self.filters.get(name) or None

    def int_value(self, name: str) -> int | None:
        text = self.filters.get(name) or ""
        return int(text) if text.isdigit() and 0 < int(text) < 2**63 else None

    def url(self, **changes: Any) -> str:
        """This list's address with some parameters changed (``None`` drops one)."""
        params: dict[str, Any] = {"q": self.q, **self.filters, "sort": self.sort,
                                  "per_page": self.per_page, "page": self.page}
        if any(key != "page" for key in changes):
            params["page"] = 1  # a new filter or order starts again at the first page
        params.update(changes)
        query = {k: v for k, v in params.items()
                 if v not in (None, "") and not (k == "page" and v == 1)
                 and not (k == "per_page" and v == 50)}
        return self.path + ("?" + urllib.parse.urlencode(query) if query else "")

    def sort_url(self, key: str) -> str:
        return self.url(sort=f"-{key}" if self.sort == key else key)

    def sorted_by(self, key: str) -> str:
        """``ascending``/``descending``/``none``, for the header's aria-sort."""
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return "none"


@dataclass
class ListView:
    state: ListState
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    total: int
    filters: Sequence[Filter] = ()
    search_label: str = ""
    empty: str = ""
    exportable: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.state.per_page))

    @property
    def first_shown(self) -> int:
        return 0 if not self.rows else (self.state.page - 1) * self.state.per_page + 1

    @property
    def last_shown(self) -> int:
        return self.first_shown + len(self.rows) - 1 if self.rows else 0

    def page_numbers(self) -> list[int | None]:
        """Page links to show: the ends and the neighbourhood of the current page;
        ``None`` where pages are left out."""
        current, last = self.state.page, self.pages
        wanted = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
        shown: list[int | None] = []
        for number in wanted:
            if shown and isinstance(shown[-1], int) and number - shown[-1] > 1:
                shown.append(None)
            shown.append(number)
        return shown

    @property
    def per_page_choices(self) -> Sequence[int]:
        return PER_PAGE_CHOICES


def _int(text: str | None, default: int, low: int, high: int) -> int:
    if text is None or not text.strip().isdigit():
        return default
    return min(max(int(text), low), high)


def wants_results_only(request: Request) -> bool:
    """An htmx request for the list alone (not a history restore, which needs the page)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true"
            and request.headers.get("HX-Target") == "list-results")


def list_page(request: Request, template_name: str, view: ListView, **context: Any
              ) -> Template:
    name = RESULTS_TEMPLATE if wants_results_only(request) else template_name
    return Template(name, context={"view": view, **context},
                    headers={"Vary": "HX-Request, HX-Target"})


def export_format(request: Request) -> str | None:
    fmt = request.query_params.get("export")
    return fmt if fmt in ("csv", "xlsx") else None


async def collect_all(fetch: Callable[[int, int], Awaitable[tuple[list[Any], int]]]
                      ) -> tuple[list[Any], bool]:
    """Every row of a filtered list, page by page, up to ``EXPORT_LIMIT``; and whether it was
    cut there."""
    rows: list[Any] = []
    page = 1
    while len(rows) < EXPORT_LIMIT:
        chunk, total = await fetch(page, MAX_PER_PAGE)
        rows.extend(chunk)
        if not chunk or len(rows) >= total:
            return rows[:EXPORT_LIMIT], False
        page += 1
    return rows[:EXPORT_LIMIT], True


def export_response(fmt: str, basename: str, columns: Sequence[Column],
                    rows: Sequence[Sequence[Cell]], *, cut: bool = False) -> Response[bytes]:
    """The rows as a CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX download; ``cut``
    (from ``collect_all``) adds a last row saying the list was longer."""
    cut_note = gettext("Only the first rows were exported.") if cut else ""
    headers = [c.title for c in columns]
    values = [[_export_value(cell) for cell in row] for row in rows]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows([["" if v is None else _csv_text(v) for v in row] for row in values])
        if cut_note:
            writer.writerow([cut_note])
        body = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        body = _xlsx(basename, headers, values, cut_note)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"{basename}-{stamp}.{fmt}"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; "
                               f"filename*=UTF-8''{urllib.parse.quote(filename)}"})


def _export_value(cell: Cell) -> Any:
    return cell.export if cell.export is not None else cell.text


def _csv_text(value: Any) -> str:
    text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
    if isinstance(value, (int, float, Decimal)) or not _FORMULA.match(text):
        return text
    return "'" + text


def _xlsx(title: str, headers: Sequence[str], values: Sequence[Sequence[Any]],
          cut_note: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in values:
        sheet.append([_xlsx_value(v) for v in row])
    if cut_note:
        sheet.append([cut_note])
    for index, header in enumerate(headers, start=1):
        width = max([len(str(header))] + [len(str(r[index - 1] or "")) for r in values[:200]])
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(
            max(10, width * 1.6), 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; values are local already
    if isinstance(value, str) and value[:1] == "=":  # openpyxl would write a formula
        return "'" + value
    return value


def options(pairs: Mapping[str, str], *, all_label: str) -> list[tuple[str, str]]:
    """Filter options from ``{value: label}``, led by an "all" choice."""
    return [("", all_label), *pairs.items()]
