"""Statements (结算单) as documents: the PDF shows the partner, number, lines, programmes and
history in Chinese text (not pictures of glyphs); the workbook's totals are the statement's to
the cent and its Entries sheet lists every ledger entry each line sums; a partner user gets
only its own."""

import io
import re
import zlib
from decimal import Decimal as D

from settlement_support import (
    API,
    NORTH_LADDER,
    SOUTH_SHARE,
    at,
    complete_order,
    ok,
    partner,
    run_period,
    statement_of,
    world,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def settled_october(jimu_platform):
    """North China (ladder, 4,680 cases → band 2) and South China (3% share) settled."""
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await world(jimu_platform, rules=False)
    here.ids["north"] = await partner(here.admin, "HB-TJ", "天津津南一级代理", "120112",
                                      level="level1")
    here.ids["south"] = await partner(here.admin, "HN-GZ", "华南总代·广州粤通", "440106")
    await ok(await here.admin.post(f"{API}/programmes", json=NORTH_LADDER), 201)
    await ok(await here.admin.post(f"{API}/programmes", json=SOUTH_SHARE), 201)
    await complete_order(jimu_platform, here.tenant, here.ids["north"], [
        ("TEA-500", "饮料", 3000, "204000.00"), ("CUP", "器具", 50, "500.00")],
        at(2026, 10, 9))
    await complete_order(jimu_platform, here.tenant, here.ids["north"], [
        ("TEA-500", "饮料", 1680, "114240.00")], at(2026, 10, 28))
    await complete_order(jimu_platform, here.tenant, here.ids["south"], [
        ("TEA-500", "饮料", 1500, "120000.00")], at(2026, 10, 15))
    await run_period(jimu_platform, here.admin, "2026-10")
    return here


# ----------------------------------------------------------------------------- PDF text


def _stream(body: bytes) -> bytes:
    start = re.search(rb"stream\r?\n", body)
    if start is None:
        return b""
    data = body[start.end():body.rfind(b"endstream")]
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def pdf_text(pdf: bytes) -> str:
    """The text WeasyPrint drew, decoded through each font's ToUnicode map (no PDF library
    needed: pypdf is not a dependency). Objects may sit in compressed object streams."""
    objects = {int(m[1]): m[2] for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", pdf, re.S)}
    for body in list(objects.values()):
        if b"/ObjStm" in body:
            data, first = _stream(body), int(re.search(rb"/First (\d+)", body)[1])
            numbers = [int(x) for x in data[:first].split()]
            pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
            for i, (number, offset) in enumerate(pairs):
                end = pairs[i + 1][1] if i + 1 < len(pairs) else len(data) - first
                objects[number] = data[first + offset:first + end]
    maps: dict[int, dict[bytes, str]] = {}
    for number, body in objects.items():
        found = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if found:
            cmap = _stream(objects[int(found[1])])
            maps[number] = {
                source.lower(): bytes.fromhex(target.decode()).decode("utf-16-be")
                for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S)
                for source, target in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>",
                                                 block)}
    fonts = {name: maps[int(number)]
             for body in objects.values() for ref in re.findall(rb"/Font (\d+) 0 R", body)
             for name, number in re.findall(rb"/([^\s/<>\[\]]+)\s+(\d+) 0 R",
                                            objects.get(int(ref), b""))
             if int(number) in maps}
    text: list[str] = []
    for body in objects.values():
        content = _stream(body)
        if b"BT" not in content:
            continue
        table: dict[bytes, str] = {}
        for op in re.finditer(rb"/([^\s/]+)\s+[\d.]+\s+Tf|\[(.*?)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj"
                              rb"|\bET\b", content, re.S):
            if op[1]:
                table = fonts.get(op[1], {})
            elif op[0] == b"ET":
                text.append("\n")
            else:
                size = len(next(iter(table), b"0000"))
                for codes in re.findall(rb"<([0-9a-fA-F]*)>", op[2] or b"<" + op[3] + b">"):
                    text += [table.get(codes[i:i + size].lower(), "\ufffd")
                             for i in range(0, len(codes), size)]
    return "".join(text)


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            data = zlib.decompress(pdf[match.end():pdf.find(b"endstream", match.end())])
        except zlib.error:
            continue
        names.update(f.decode() for f in re.findall(rb"/FontName\s*/([\w+-]+)", data))
    return names


# ----------------------------------------------------------------------------- tests


async def test_the_statement_pdf_shows_partner_lines_programme_and_history_in_chinese(
        jimu_platform):
    here = await settled_october(jimu_platform)
    north = await statement_of(here.admin, "2026-10", here.ids["north"])
    await ok(await here.admin.post(f"{API}/statements/{north['id']}/dispute",
                                   json={"comment": "10月28日订单未计入"}))
    await ok(await here.admin.post(f"{API}/statements/{north['id']}/confirm", json={}))
    await ok(await here.admin.post(f"{API}/periods/2026-10/close", json={}))
    await ok(await here.admin.post(f"{API}/statements/{north['id']}/pay",
                                   json={"reference": "BANK-20261105-01"}))

    answer = await here.admin.get(f"{API}/statements/{north['id']}/export.pdf")
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="{north["number"]}.pdf"')
    assert answer.content.startswith(b"%PDF")
    assert any(font.endswith("+Noto-Sans-CJK-SC") for font in font_names(answer.content))
    text = pdf_text(answer.content)
    assert "\ufffd" not in text  # every glyph maps back to its character
    for shown in (north["number"], "天津津南一级代理 (HB-TJ)", "2026-10", "已付款",
                  "按档位价进货", "¥318,740.00", "返利", "¥4,680.00", "应付合作方",
                  "华北阶梯返利 (HB-LADDER)", "达到第 2 档", "10月28日订单未计入",
                  "付款流水号：BANK-20261105-01", "生成于"):
        assert shown in text, (shown, text)
    # The sales basis is shown apart from the payable total, and before it.
    assert text.index("¥318,740.00") < text.index("应付合作方") < text.index("¥4,680.00", (
        text.index("应付合作方")))


async def test_the_statement_workbook_adds_up_to_the_statement_and_lists_every_entry(
        jimu_platform):
    from openpyxl import load_workbook

    here = await settled_october(jimu_platform)
    north = await statement_of(here.admin, "2026-10", here.ids["north"])
    # Booked after the run: the statement waits for the next run, and so does its workbook.
    await complete_order(jimu_platform, here.tenant, here.ids["north"], [
        ("TEA-500", "饮料", 400, "27200.00")], at(2026, 10, 30))

    answer = await here.admin.get(f"{API}/statements/{north['id']}/export.xlsx")
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == XLSX
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="{north["number"]}.xlsx"')
    book = load_workbook(io.BytesIO(answer.content))
    sheet, entries = book.worksheets
    assert (sheet.title, entries.title) == ("结算单", "台账明细")
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[1][:2] == ["结算单", north["number"]]
    assert ["合作伙伴", "天津津南一级代理"] in [r[:2] for r in rows]
    lines = [r for r in rows if isinstance(r[0], int)]
    assert [(r[1], D(str(r[5]))) for r in lines] == [
        ("按档位价进货", D("318740.00")), ("返利", D("4680.00"))]
    totals = {r[1]: r for r in rows if r[0] is None and r[1] and r[5] is not None}
    sales, payable = totals["进货基数（不计入应付）"], totals["应付合作方"]
    assert D(str(sales[5])).quantize(D("0.01")) == D(north["sales"]) == D("318740.00")
    assert D(str(payable[5])).quantize(D("0.01")) == D(north["payable"]) == D("4680.00")
    money_cells = [sheet.cell(row=rows.index(r) + 1, column=6) for r in (*lines, sales)]
    assert {c.number_format for c in money_cells} == {"#,##0.00"}
    assert all(isinstance(c.value, int | float) for c in money_cells)  # numbers, not text
    programme = lines[1][7]
    assert "华北阶梯返利 (HB-LADDER)" in programme and "第 2 档" in programme

    ledger = [[c.value for c in row] for row in entries.iter_rows()]
    heads, items = ledger[0], ledger[1:]
    assert heads[:5] == ["#", "项目", "日期", "来源", "单据"]
    # One row per ledger entry of each line, adding up to the line.
    for line in north["lines"]:
        mine = [r for r in items if r[0] == line["line_no"]]
        assert len(mine) == line["entries"]
        assert sum(D(str(r[8])) for r in mine).quantize(D("0.01")) == D(line["amount"])
    assert len(items) == sum(line["entries"] for line in north["lines"]) == 4
    assert [(r[3], r[4], r[5], r[7], r[9]) for r in items if r[0] == 2] == [
        ("政策", "HB-LADDER", None, 4680, "2026-10")]
    assert all(re.fullmatch(r"SO-2026-\d{6}", r[4]) for r in items if r[0] == 1)
    assert entries.cell(row=2, column=3).number_format == "yyyy-mm-dd"
    # The same statement gives the same bytes.
    again = await here.admin.get(f"{API}/statements/{north['id']}/export.xlsx")
    assert again.content == answer.content


async def test_the_documents_speak_the_language_of_the_request(jimu_platform):
    from openpyxl import load_workbook

    here = await settled_october(jimu_platform)
    south = await statement_of(here.admin, "2026-10", here.ids["south"])
    here.admin.cookies.set("jimu_lang", "en")
    book = load_workbook(io.BytesIO((await here.admin.get(
        f"{API}/statements/{south['id']}/export.xlsx")).content))
    assert [s.title for s in book.worksheets] == ["Statement", "Ledger entries"]
    rows = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    totals = {r[1]: D(str(r[5])).quantize(D("0.01"))
              for r in rows if r[0] is None and isinstance(r[5], int | float)}
    assert totals == {"Sales basis (not payable)": D("120000.00"),
                      "Payable to the partner": D("3600.00")}
    text = pdf_text((await here.admin.get(
        f"{API}/statements/{south['id']}/export.pdf")).content)
    for shown in ("华南总代·广州粤通 (HN-GZ)", "Volume shares", "Sales basis",
                  "Payable to the partner", "华南按订单量分成 (HN-SHARE)"):
        assert shown in text, (shown, text)


async def test_a_partner_user_exports_only_its_own_statement(jimu_platform):
    here = await settled_october(jimu_platform)
    await jimu_platform.make_user(here.tenant, f"{here.tenant.slug}-tj", role="partner",
                                  partner_id=here.ids["north"])
    dealer = await jimu_platform.login(f"{here.tenant.slug}-tj")
    own = await statement_of(here.admin, "2026-10", here.ids["north"])
    other = await statement_of(here.admin, "2026-10", here.ids["south"])
    for kind in ("pdf", "xlsx"):
        mine = await dealer.get(f"{API}/statements/{own['id']}/export.{kind}")
        assert mine.status_code == 200, mine.text[:300]
        theirs = await dealer.get(f"{API}/statements/{other['id']}/export.{kind}")
        assert theirs.status_code == 404
        assert str(other["id"]) in theirs.json()["message"]
        assert (await here.admin.get(f"{API}/statements/999999/export.{kind}")
                ).status_code == 404
