"""Import items and price rules from CSV (UTF-8, with or without BOM) or XLSX.

The first row names the columns (any order; unknown columns are refused). Row numbers in the
report are the spreadsheet's: the header is row 1, the first data row is row 2. Every row is
checked first — shape, references, and conflicts against the stored rules *and* the rows above
it — and nothing is written if any row is bad, or with ``dry_run``. An existing SKU (items) or
rule code (rules) is updated; others are created.

Rule cells: ``breaks`` is ``min-max:value`` separated by ``;`` (``1-100:51; 100-:49.98``, an
empty max is open); the list columns (``regions``, ``partner_levels``, ``partner_tiers``,
``customer_levels``, ``channels``) separate values with ``|``, ``,`` or spaces; ``enabled`` and
``active`` take ``1/0``, ``true/false``, ``yes/no``, ``是/否``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from jimu_sdk import N_, ValidationFailed

from jimu_price_lists import engine, services
from jimu_price_lists.schemas import ImportReport, ImportRowError, ItemIn, RuleIn
from jimu_price_lists.tables import Item, PriceRule

MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024
ITEM_COLUMNS = ("sku", "name", "unit", "kind", "category", "list_price", "cost", "currency",
                "tax_rate", "active")
RULE_COLUMNS = ("code", "name", "scope", "sku", "category", "kind", "value", "base",
                "price_list", "surcharge", "rounding_step", "min_margin", "max_margin",
                "breaks", "valid_from", "valid_to", "regions", "partner_levels",
                "partner_tiers", "customer_levels", "channels", "priority", "enabled", "note")
LIST_COLUMNS = ("regions", "partner_levels", "partner_tiers", "customer_levels", "channels")
BOOL_COLUMNS = ("active", "enabled")
TRUE = {"1", "true", "yes", "y", "是", "on"}
FALSE = {"0", "false", "no", "n", "否", "off"}
AT_FIELD = re.compile(r"at `\$\.([a-z_]+)")


class RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_rows(filename: str, content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """``(row number, {column: text})`` for each non-empty data row."""
    if len(content) > MAX_BYTES:
        raise ValidationFailed(N_("the file is larger than 10 MB"), field="file")
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(content)
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(N_("the CSV file is not UTF-8"), field="file") from exc
        rows = _csv_rows(text)
    header: list[str] | None = None
    count = 0
    for number, cells in enumerate(rows, start=1):
        if header is None:
            header = [c.strip().lower() for c in cells]
            continue
        if not any(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ValidationFailed(N_("at most %(max)s rows can be imported at once"),
                                   field="file", params={"max": MAX_ROWS})
        yield number, {name: (cells[i] if i < len(cells) else "")
                       for i, name in enumerate(header) if name}
    if header is None:
        raise ValidationFailed(N_("the file is empty: the first row must name the columns"),
                               field="file")


def _csv_rows(text: str) -> Iterator[list[str]]:
    try:
        for row in csv.reader(io.StringIO(text)):
            yield [_cell(c) for c in row]
    except csv.Error as exc:  # a cell over the csv module's limit, a stray NUL, …
        raise ValidationFailed(N_("the CSV file cannot be read: %(problem)s"), field="file",
                               params={"problem": str(exc)}) from None


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationFailed(N_("the file is not a readable XLSX workbook"),
                               field="file") from exc
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield [_cell(c) for c in row]


def _bool(field: str, text: str) -> bool:
    low = text.lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise RowError(field, f"{text!r} is not yes/no")


def _decimal(field: str, text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise RowError(field, f"{text!r} is not a number") from exc
    if not value.is_finite():
        raise RowError(field, f"{text!r} is not a number")
    return value


def parse_breaks(text: str) -> list[dict[str, Any]]:
    breaks = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = re.fullmatch(r"([0-9.]+)\s*-\s*([0-9.]*)\s*:\s*(-?[0-9.]+)", part)
        if not match:
            raise RowError("breaks", f"{part!r} is not min-max:value (e.g. 100-:2)")
        lo, hi, value = match.groups()
        breaks.append({"min_qty": _decimal("breaks", lo),
                       "max_qty": _decimal("breaks", hi) if hi else None,
                       "value": _decimal("breaks", value)})
    return breaks


def _struct(cls: type, values: dict[str, Any]) -> Any:
    try:
        return msgspec.convert(values, cls, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = AT_FIELD.search(text)
        raise RowError(match.group(1) if match else "row", text) from exc


def _check_columns(row: dict[str, str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(row) - set(allowed))
    if unknown:
        raise ValidationFailed(N_("unknown columns: %(columns)s"), field="file",
                               params={"columns": ", ".join(unknown)})


def parse_item(row: dict[str, str]) -> ItemIn:
    values: dict[str, Any] = {}
    for key, text in row.items():
        if text == "":
            continue
        if key in BOOL_COLUMNS:
            values[key] = _bool(key, text)
        elif key in ("list_price", "cost", "tax_rate"):
            values[key] = _decimal(key, text)
        else:
            values[key] = text
    return _struct(ItemIn, values)


def parse_rule(row: dict[str, str]) -> RuleIn:
    values: dict[str, Any] = {}
    for key, text in row.items():
        if text == "":
            continue
        if key in BOOL_COLUMNS:
            values[key] = _bool(key, text)
        elif key in ("value", "surcharge", "rounding_step", "min_margin", "max_margin"):
            values[key] = _decimal(key, text)
        elif key == "breaks":
            values[key] = parse_breaks(text)
        elif key in LIST_COLUMNS:
            values[key] = [v for v in re.split(r"[|,;\s]+", text) if v]
        elif key == "priority":
            try:
                values[key] = int(text)
            except ValueError as exc:
                raise RowError(key, f"{text!r} is not a whole number") from exc
        else:
            values[key] = text
    return _struct(RuleIn, values)


async def import_items(filename: str, content: bytes, *, dry_run: bool) -> ImportReport:
    errors: list[ImportRowError] = []
    parsed: list[ItemIn] = []
    seen: dict[str, int] = {}
    rows = 0
    for number, row in read_rows(filename, content):
        _check_columns(row, ITEM_COLUMNS)
        rows += 1
        try:
            item = parse_item(row)
            try:
                services.check_item(item)
            except ValidationFailed as exc:
                raise RowError(exc.field or "row", exc.message) from exc
            if item.sku in seen:
                raise RowError("sku", f"SKU {item.sku} repeats row {seen[item.sku]}")
            seen[item.sku] = number
            parsed.append(item)
        except RowError as exc:
            errors.append(ImportRowError(row=number, field=exc.field, message=exc.message))
    existing = {r["sku"]: r["id"] for r in await Item.scoped_select(Item.id, Item.sku)}
    created = sum(1 for p in parsed if p.sku not in existing)
    report = ImportReport(kind="items", dry_run=dry_run, rows=rows, created=created,
                          updated=len(parsed) - created, written=False, errors=errors)
    if errors or dry_run:
        return report
    for item in parsed:
        if item.sku in existing:
            await services.update_item(existing[item.sku], item)
        else:
            await services.create_item(item)
    report.written = True
    return report


async def import_rules(filename: str, content: bytes, *, dry_run: bool) -> ImportReport:
    errors: list[ImportRowError] = []
    parsed: list[RuleIn] = []
    seen: dict[str, int] = {}
    stored = {r["code"]: r for r in await PriceRule.scoped_select()}
    skus = {r["sku"] for r in await Item.scoped_select(Item.sku)}
    lists = {r.code for r in await services.list_price_lists()}
    # Enabled rules as they will be after the import, by code (stored, then rows above).
    pool: dict[str, engine.Rule] = {
        code: services.engine_rule(services.rule_out(r)) for code, r in stored.items()
        if r["enabled"]}
    rows = 0
    for number, row in read_rows(filename, content):
        _check_columns(row, RULE_COLUMNS)
        rows += 1
        try:
            rule = services._normalise(parse_rule(row))
            if rule.code in seen:
                raise RowError("code", f"rule {rule.code} repeats row {seen[rule.code]}")
            seen[rule.code] = number
            shape = services.check_rule_shape(rule)
            if shape:
                raise RowError(shape[0]["field"], shape[0]["message"])
            if rule.scope == "item" and rule.sku not in skus:
                raise RowError("sku", f"unknown item {rule.sku}")
            if rule.kind == "formula" and rule.base == "price_list" \
                    and rule.price_list not in lists:
                raise RowError("price_list", f"unknown price list {rule.price_list}")
            candidate = services.engine_rule(rule)
            pool.pop(rule.code, None)
            if rule.enabled:
                others = services.conflicts_with(candidate, list(pool.values()))
                if others:
                    message = services.conflict_error(rule.code, others)["message"]
                    raise RowError("priority", message)
                pool[rule.code] = candidate
            parsed.append(rule)
        except RowError as exc:
            errors.append(ImportRowError(row=number, field=exc.field, message=exc.message))
    created = sum(1 for p in parsed if p.code not in stored)
    report = ImportReport(kind="rules", dry_run=dry_run, rows=rows, created=created,
                          updated=len(parsed) - created, written=False, errors=errors)
    if errors or dry_run:
        return report
    # Written through the same services as the API (each re-checked against the database;
    # a swap between rows that only works as a whole fails the request, writing nothing).
    for rule in parsed:
        if rule.code in stored:
            await services.update_rule(stored[rule.code]["id"], rule)
        else:
            await services.create_rule(rule)
    report.written = True
    return report
