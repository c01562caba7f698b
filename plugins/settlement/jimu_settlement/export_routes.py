"""Routes under /api/v1/settlement giving a statement (结算单) as a document: ``…/export.pdf``
to print, ``…/export.xlsx`` with its ledger entries. A partner user gets only its own (404 for
another's, as for the statement itself)."""

from __future__ import annotations

from typing import Any

from jimu_sdk.params import RecordIdParam
from jimu_sdk.web import needs, partner_scope
from litestar import Request, Response, get

from jimu_settlement import documents, statements

READ = needs("settlement.read")


async def _document(request: Request[Any, Any, Any], statement_id: int, kind: str
                    ) -> Response[bytes]:
    statement = await statements.get_statement(statement_id, partner_id=partner_scope())
    engine = request.app.template_engine
    assert engine is not None  # core always configures one
    if kind == "pdf":
        body = await documents.statement_pdf(statement, engine)
        media = "application/pdf"
    else:
        body = await documents.statement_xlsx(statement, engine)
        media = documents.XLSX_MEDIA
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{documents.filename(statement, kind)}"'})


@get("/statements/{statement_id:int}/export.pdf", guards=READ,
     summary="A statement as a PDF: its lines, the sales basis apart from the payable total, "
             "the programmes behind rebates and shares, its history")
async def statement_pdf(request: Request[Any, Any, Any],
                        statement_id: RecordIdParam) -> Response[bytes]:
    return await _document(request, statement_id, "pdf")


@get("/statements/{statement_id:int}/export.xlsx", guards=READ,
     summary="A statement as an XLSX workbook: the Statement sheet (lines, totals, history) "
             "and the Entries sheet (every ledger entry each line sums)")
async def statement_xlsx(request: Request[Any, Any, Any],
                         statement_id: RecordIdParam) -> Response[bytes]:
    return await _document(request, statement_id, "xlsx")


ROUTES = [statement_pdf, statement_xlsx]
